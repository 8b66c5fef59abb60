"""The platform app credentials the tests configure (the sandbox accepts any; real ones live in Secret Manager)."""

APP_ENV = {
    "TIKTOK_CLIENT_KEY": "sbx-tiktok-client", "TIKTOK_CLIENT_SECRET": "sbx-tiktok-secret",
    "INSTAGRAM_APP_ID": "sbx-ig-app", "INSTAGRAM_APP_SECRET": "sbx-ig-secret",
    "FACEBOOK_APP_ID": "sbx-fb-app", "FACEBOOK_APP_SECRET": "sbx-fb-secret",
    "GOOGLE_CLIENT_ID": "sbx-google-client", "GOOGLE_CLIENT_SECRET": "sbx-google-secret",
}
