"""The register's SQLite schema: its version and the steps that build or upgrade it.

Kept apart from store/register.py so that the tables can be read (and a new
step added) without the code that uses them. Register._migrate applies the
steps from the file's PRAGMA user_version up to SCHEMA_VERSION.
"""

from __future__ import annotations

SCHEMA_VERSION = 5

# Each entry upgrades the file from version n-1 to version n. Never edit a
# released step: add the next one.
MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE submissions (
    id            INTEGER PRIMARY KEY,
    claim_id      TEXT UNIQUE,          -- the work-area claim that brought the file in
    file          TEXT NOT NULL,        -- path as dropped, relative to inbox/
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    received_at   TEXT NOT NULL,        -- ISO 8601 with offset
    status        TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'superseded', 'duplicate')),
    form          TEXT,
    unit          TEXT,
    name          TEXT,
    position      TEXT,
    form_date     TEXT,                 -- ISO date written on the form
    signatory     TEXT,
    unit_key      TEXT NOT NULL DEFAULT '',
    name_key      TEXT NOT NULL DEFAULT '',
    late          INTEGER NOT NULL DEFAULT 0,
    duplicate_of  INTEGER REFERENCES submissions(id),
    superseded_by INTEGER REFERENCES submissions(id),
    archived_as   TEXT,                 -- where the original is kept, relative to the workspace
    notice        TEXT,                 -- rejection notice (.docx, else .txt), relative
    notice_text   TEXT,                 -- the plain-text copy of the notice, relative
    filed_at      TEXT,                 -- set once the original is in its place
    errors        TEXT NOT NULL DEFAULT '[]',
    warnings      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX submissions_sha ON submissions (sha256);
CREATE INDEX submissions_owner ON submissions (form, unit_key, name_key, status);
CREATE TABLE risks (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    row_no        INTEGER NOT NULL,
    seq           INTEGER,
    duty          TEXT NOT NULL DEFAULT '',
    risk          TEXT NOT NULL DEFAULT '',
    content       TEXT NOT NULL DEFAULT '',
    level         INTEGER,
    review        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX risks_submission ON risks (submission_id);
CREATE TABLE measures (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    row_no        INTEGER NOT NULL,
    seq           INTEGER,
    risk          TEXT NOT NULL DEFAULT '',
    measure       TEXT NOT NULL DEFAULT '',
    review        TEXT NOT NULL DEFAULT '',  -- 单位审核意见 (personal) or 备注 (unit)
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX measures_submission ON measures (submission_id);
CREATE TABLE audit (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    claim_id      TEXT,
    submission_id INTEGER REFERENCES submissions(id),
    file          TEXT,
    action        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_submission ON audit (submission_id);
""",
    # `file` and `archived_as` are text for people (escaped, fsutil.printable_name).
    # file_raw: hex of os.fsencode(the path as dropped, relative to inbox/);
    # archived_raw: hex of the kept original's path, where archived_as shows it escaped.
    # (No SQL comments here: ADD COLUMN copies the text into the table's schema.)
    2: """
ALTER TABLE submissions ADD COLUMN file_raw TEXT;
ALTER TABLE submissions ADD COLUMN archived_raw TEXT;
""",
    # Campaigns (pipeline.core.campaign): submissions.campaign is the campaign
    # current when the file was recorded (NULL in files from before version 3,
    # given the first campaign by Register.current_campaign); unit_written is
    # the unit as written on the form when an alias (unit_aliases) renamed it.
    # issued: documents the office issued (`issue`), never changed again.
    # confirmations: the office's 组织审 of an adjustment (a 三级 lowered, a risk dropped).
    3: """
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    started_on TEXT NOT NULL,
    frozen_on TEXT,
    settings TEXT NOT NULL DEFAULT '{}'
);
ALTER TABLE submissions ADD COLUMN campaign TEXT REFERENCES campaigns(id);
ALTER TABLE submissions ADD COLUMN unit_written TEXT;
CREATE INDEX submissions_campaign ON submissions (campaign, form, unit_key, name_key, status);
CREATE TABLE issued (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL REFERENCES campaigns(id),
    kind TEXT NOT NULL,
    series TEXT,
    year INTEGER,
    number INTEGER,
    doc_number TEXT,
    unit TEXT,
    issued_on TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pdf TEXT,
    pdf_sha256 TEXT,
    data_hash TEXT NOT NULL DEFAULT '',
    UNIQUE (series, year, number)
);
CREATE TABLE confirmations (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL REFERENCES campaigns(id),
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    risk_key TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (submission_id, risk_key)
);
""",
    # implementations: the rows of the 落实情况 forms (附件5, issue 14), one
    # a row, kept like risks and measures (the submission says whether in force).
    4: """
CREATE TABLE implementations (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    row_no INTEGER NOT NULL,
    seq INTEGER,
    risk_id TEXT NOT NULL DEFAULT '',
    risk TEXT NOT NULL DEFAULT '',
    level INTEGER,
    measure TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    done TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '',
    problem TEXT NOT NULL DEFAULT ''
);
CREATE INDEX implementations_submission ON implementations (submission_id);
""",
    # extra: the columns a filler added to a row (责任人, 完成时限 …; the reader's
    # row "extra"), as JSON {heading: text}; '' for a row without.
    5: """
ALTER TABLE risks ADD COLUMN extra TEXT NOT NULL DEFAULT '';
ALTER TABLE measures ADD COLUMN extra TEXT NOT NULL DEFAULT '';
""",
}
