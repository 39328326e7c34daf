"""Print the pip requirements of the integrations the development HA loads.

Those are Home Assistant's default integrations and the ones named in
config/configuration.yaml. Follows each integration's manifest dependencies,
so `scripts/develop` can install exactly what the development Home Assistant
needs and run offline with --skip-pip.
"""

from importlib import metadata
import json
from pathlib import Path
import sys

from homeassistant import bootstrap
import homeassistant.components
import yaml


def _manifest(domain: str) -> dict[str, list[str]]:
    base = Path(homeassistant.components.__path__[0])
    return json.loads((base / domain / "manifest.json").read_text())


def _installed(requirement: str) -> bool:
    name, _, version = requirement.partition("==")
    try:
        return metadata.version(name) == version
    except metadata.PackageNotFoundError:
        return False


def main() -> None:
    """Print the missing requirements, one per line."""

    class Loader(yaml.SafeLoader):
        """Accepts HA's !include and !secret tags without resolving them."""

    Loader.add_multi_constructor("!", lambda *_: None)
    config = yaml.load(Path(sys.argv[1]).read_text(), Loader=Loader)  # noqa: S506
    todo = [key for key in config if key != "homeassistant"]
    todo += [
        *bootstrap.CORE_INTEGRATIONS,
        *(bootstrap.LOGGING_AND_HTTP_DEPS_INTEGRATIONS - {"sentry"}),
        *bootstrap.DEFAULT_INTEGRATIONS,
    ]
    seen: set[str] = set()
    requirements: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = _manifest(domain)
        requirements.update(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
    for requirement in sorted(requirements):
        if not _installed(requirement):
            print(requirement)


if __name__ == "__main__":
    main()
