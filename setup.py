"""The grammar lives in the top-level grammar/ folder (the project's layout) but must be inside
the wheel: it is mapped to the package hlmshell.grammar here, which pyproject.toml cannot
express together with package discovery."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["hlmshell", "hlmshell.*"]) + ["hlmshell.grammar"],
    package_dir={"hlmshell.grammar": "grammar"},
)
