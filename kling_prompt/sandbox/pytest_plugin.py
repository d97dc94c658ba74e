"""pytest plugin: the ``fal_sandbox`` fixture (see :mod:`kling_prompt.sandbox`).

Registered through the ``pytest11`` entry point, so it loads in every pytest run of a project
that has kling_prompt installed. It therefore imports nothing heavy at start-up: the server and
trustme are imported inside the fixture.

Options for one test go in a marker, passed to :class:`~kling_prompt.sandbox.Sandbox`::

    @pytest.mark.fal_sandbox(latency=0.05, validator=accept_all)
    def test_render(fal_sandbox): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kling_prompt.sandbox.server import Sandbox


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fal_sandbox(**options): keyword arguments for the fal_sandbox fixture's Sandbox"
    )


@pytest.fixture
def fal_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running sandbox with ``os.environ`` pointing fal-client at it.

    Sets ``HTTPS_PROXY``, ``SSL_CERT_FILE`` and ``FAL_KEY``, removes the proxy-bypass variables,
    and restores the environment exactly afterwards. Build ``fal_client.SyncClient()`` inside the
    test: fal-client's module-level functions share a client that may predate the environment.
    """
    from kling_prompt.sandbox.server import Sandbox

    marker = request.node.get_closest_marker("fal_sandbox")
    options = dict(marker.kwargs) if marker else {}
    with Sandbox(**options) as sandbox, sandbox.environment():
        yield sandbox
