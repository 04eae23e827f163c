"""``python -m winnow`` is the ``winnow`` command."""

from winnow.cli import main

main()
