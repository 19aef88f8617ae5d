"""Component ids shared across pages (page-local ids live in their page module)."""

LANG = "lang-store"  # dcc.Store(local): the language pages render in, routed into every layout
LANG_PICK = "lang-pick"  # dcc.Store(memory): a choice made with the language menu just now
THEME = "theme-store"  # dcc.Store(local): "light" | "dark" | None (follow the OS)
THEME_TOGGLE = "theme-toggle"
THEME_RESOLVED = "theme-resolved"  # dcc.Store(memory): "light" | "dark" as shown
TOASTS = "toasts"
NAVBAR = "navbar"
NAV_LINKS = "nav-links"
NAV_USER = "nav-user"
NAV_PUBLIC = "nav-public"
LANG_PICK_ES = "lang-pick-es"
LANG_PICK_EN = "lang-pick-en"
CSRF = "csrf"  # pattern-matching type: {"type": CSRF, "form": <name>}
BELL = "nav-bell"  # the notification bell (logged-in users only)
BELL_COUNT = "nav-bell-count"
BELL_TICK = "nav-bell-tick"  # dcc.Interval inside the bell
BELL_SEEN = "nav-bell-seen"  # dcc.Store(memory) in the shell: {"user": id, "id": newest event id seen}
ANCHOR = "anchor-reached"  # dcc.Store(memory) in the shell: the output of ui/anchor (nothing is written)
ALERTS_REFRESH = "alerts-refresh"  # bumped when rules change; in the shell: the node page's presets bump it too
