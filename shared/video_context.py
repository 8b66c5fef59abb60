"""What a video is about, given when it is added; suggestions are written from it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A BCP-47 language tag as people type it: "en", "de-AT", "pt-BR", "zh-Hant".
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"
COLUMNS = ("generation_prompt", "description", "brand", "language")


class VideoContext(BaseModel):
    """Optional context stored with a video (all fields optional)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, max_length=4000,
                               description="The prompt the video was generated from (e.g. the Veo prompt)")
    description: str | None = Field(default=None, max_length=4000, description="What the video shows, in words")
    brand: str | None = Field(default=None, max_length=200, description="The product or brand it is about")
    language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN,
                                 description="Language of the captions, e.g. 'en', 'de', 'es-MX'")

    @field_validator("prompt", "description", "brand", "language", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def column_values(self) -> tuple[str | None, ...]:
        return (self.prompt, self.description, self.brand, self.language)

    @classmethod
    def from_row(cls, row: Any) -> VideoContext:
        return cls.model_construct(prompt=row.get("generation_prompt"), description=row.get("description"),
                                   brand=row.get("brand"), language=row.get("language"))

    def is_empty(self) -> bool:
        return not any(self.column_values())
