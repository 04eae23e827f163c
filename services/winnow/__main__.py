"""``python -m winnow`` is the ``winnow`` command."""

from winnow.cli.main import main

main()
