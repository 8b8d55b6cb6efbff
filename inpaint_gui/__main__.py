from inpaint_gui.app import main

raise SystemExit(main())
