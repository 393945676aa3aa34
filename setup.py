"""Maps the one ``alongside`` namespace onto the shared kit and each service.

pyproject.toml holds the metadata; this file only lists where each package
lives, which setuptools cannot discover across several roots by itself.
"""

from setuptools import find_namespace_packages, setup

ROOTS = ["kit", "services/matcher", "services/scheduler", "services/notifier", "services/console", "cli"]

packages: list[str] = []
package_dir: dict[str, str] = {}
for root in ROOTS:
    for package in find_namespace_packages(root, include=["alongside.*"]):
        packages.append(package)
        package_dir[package] = f"{root}/{package.replace('.', '/')}"

# The console's templates, static files (vendored JS with its licence) and catalogues ship too.
DATA = ["*.lua", "*.json", "py.typed", "*.pyi", "*.html", "*.js", "*.css", "*.po", "*.txt"]
setup(packages=packages, package_dir=package_dir, package_data={"": DATA})
