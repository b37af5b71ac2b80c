"""`python -m platform_api_client` is the `platform-api` command."""

import sys

from platform_api_client.cli import main

sys.exit(main())
