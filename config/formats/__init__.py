"""Date and number formats per language (FORMAT_MODULE_PATH): a bank writes dates as 2026-11-25
whatever the screen's language, and times on the 24-hour clock."""
