"""Maps the project's top-level folders onto the one import namespace ``hwsim``.

``hwsim/`` is the core; ``memory/``, ``accelerators/``, ``rtl/`` and ``verification/`` install
as ``hwsim.memory`` and so on. Sub-packages are discovered, so adding a folder with an
``__init__.py`` needs no edit here.
"""

from setuptools import find_packages, setup

PACKAGE_DIRS = {
    "hwsim": "hwsim",
    "hwsim.memory": "memory",
    "hwsim.accelerators": "accelerators",
    "hwsim.rtl": "rtl",
    "hwsim.verification": "verification",
}

packages = []
for package, folder in PACKAGE_DIRS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=PACKAGE_DIRS)
