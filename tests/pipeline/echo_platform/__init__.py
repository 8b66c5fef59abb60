"""Echo: a test-only platform, written as a real one is, to prove what adding a platform takes.

Its own package (this folder: publisher, provider, errors, settings, options) plus one
registry line (`shared.platforms.registry.including(PLATFORM)` stands in for it in the
test) is all: connecting, refreshing, queues and publishing find it through the descriptor.
Its "platform" is the small server in server.py.
"""

from shared.platforms.platform import Platform
from tests.pipeline.echo_platform.oauth import EchoOAuth
from tests.pipeline.echo_platform.options import Options
from tests.pipeline.echo_platform.publisher import EchoAdapter

PLATFORM = Platform(adapter=EchoAdapter, provider=EchoOAuth, options=Options)
