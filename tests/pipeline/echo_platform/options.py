"""Echo has no options of its own."""

from shared.platforms.options import PlatformOptions


class Options(PlatformOptions):
    pass
