"""functions-framework targets, one per route of functions/routes.py, named `<area>_<endpoint>`.

functions-framework --source main.py --target users_register
"""

from __future__ import annotations

from functions.routes import ROUTES
from lib.platform.gcf import make_target

for _route in ROUTES:
    globals()[_route.target] = make_target(_route)
