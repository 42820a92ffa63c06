"""Only what pyproject.toml cannot say: the suites and recipes of tasks/ ship inside the wheel as
``harness/tasks``, where ``harness.paths.tasks_dir`` finds them in an install without the source
tree. An editable install reads tasks/ in place. Files starting with "_" are test fixtures and stay out."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TASKS = Path(__file__).resolve().parent / "tasks"


class BuildPyWithTasks(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "harness" / "tasks"
        for src in sorted(TASKS.rglob("*.toml")):
            if src.name.startswith("_"):
                continue
            target = dest / src.relative_to(TASKS)
            self.mkpath(str(target.parent))
            self.copy_file(str(src), str(target))


setup(cmdclass={"build_py": BuildPyWithTasks})
