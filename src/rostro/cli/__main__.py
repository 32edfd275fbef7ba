import sys

from rostro.cli import main

sys.exit(main())
