from anntools.cli import main

raise SystemExit(main())
