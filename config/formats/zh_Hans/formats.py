# The same bank-wide style as English (see config/formats/en/formats.py).
from config.formats.en.formats import *  # noqa: F401,F403
