from oncosecours.cli import main

raise SystemExit(main())
