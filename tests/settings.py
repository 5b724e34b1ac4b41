"""Settings for the test suite: the product's settings with a test secret."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)

from rodtrad.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# WhiteNoise looks files up per request instead of scanning every static file when the
# middleware starts: every test client starts the middleware anew (about 14 ms each).
WHITENOISE_AUTOREFRESH = True
