"""How much a search reads, counts and accepts. The tunable limits (COUNT_LIMIT, PAGES_AHEAD,
DEEP_PAGE, MAX_RESULTS, DRIVE_LIMIT, RANK_LIMIT, REFIND_LIMIT) are read as `limits.NAME` when
used, so that tests can change them here once for the whole package."""

DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 100
COUNT_LIMIT = 500  # counting stops here, or a few pages past the page shown
PAGES_AHEAD = 5
# A page starting past this many matches is read from its first (SQL OFFSET), not the matches
# before it: a listing's id and sort key each cost the page 3 µs (page 200 read 4,921).
DEEP_PAGE = 500
MAX_RESULTS = 10_000  # pages past the first this many results are empty: refine the search
MAX_PAGE_ARG = 1_000_000  # larger page numbers in a URL are garbage, not a page
MAX_TEXT_LENGTH = 200  # characters of search text considered
MAX_WORDS = 8
MAX_WORD_LENGTH = 40
MAX_DAYS = 3650
MAX_KM = 300  # a radius in km; the Netherlands are about 300 km across
PREFIX_MIN_LENGTH = 2  # shorter words match whole words only (a one-letter prefix is everything)
# Words of this many characters or more also match part of a title's word ("kast" in
# "Kantoorkasten"); shorter parts are in too many words to mean much ("bed" in "bedrijf").
PART_MIN_LENGTH = 4
TITLE_WEIGHT = 5.0  # on SQLite, a word in the title counts this many times one in the description
# SQLite: words found in more listings than this never drive the query (see sqlite_plan).
DRIVE_LIMIT = 10_000
# Words found in more listings than this are shown newest first, also when relevance is asked:
# ranking costs ~0.6 µs a match (bm25, SQLite) to ~0.8 µs (ts_rank, PostgreSQL), and a word
# found in that many listings says little about which come first.
RANK_LIMIT = 10_000
# Asking about more changed listings than this costs about what the search itself costs.
REFIND_LIMIT = 500
