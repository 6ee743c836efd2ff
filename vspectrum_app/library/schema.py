"""The library's tables. Append a migration to change them; never edit a released one."""

MIGRATIONS: list[str] = [
    # 1: images, their embeddings per CLIP model, cached text embeddings, user keyword sets.
    """
    CREATE TABLE images (
        id            INTEGER PRIMARY KEY,
        sha256        TEXT NOT NULL UNIQUE,       -- content hash; the file is images/<sha[:2]>/<sha>.<ext>
        ext           TEXT NOT NULL,
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        bytes         INTEGER NOT NULL,
        source_name   TEXT,                       -- file name it was imported from
        video_url     TEXT,
        platform      TEXT,
        post_date     TEXT,                       -- ISO 8601 date when known
        author        TEXT,
        caption       TEXT,
        capture_time  TEXT,                       -- when a crawler took it (ISO 8601, UTC)
        feed_position INTEGER,
        crawl_session TEXT,
        phash         TEXT,                       -- perceptual hash (hex), for near-duplicate checks
        flags         TEXT NOT NULL DEFAULT '',   -- comma-separated quality flags (black_frame, login_wall, ...)
        extra_json    TEXT NOT NULL DEFAULT '{}', -- any other metadata columns, kept verbatim
        imported_at   TEXT NOT NULL
    );
    CREATE INDEX images_platform ON images(platform);
    CREATE INDEX images_video_url ON images(video_url);
    CREATE INDEX images_post_date ON images(post_date);

    CREATE TABLE clip_models (
        model_key  TEXT PRIMARY KEY,              -- hash of the model spec (name, weights/config hashes)
        spec_json  TEXT NOT NULL,
        dim        INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );

    CREATE TABLE embeddings (
        image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        model_key TEXT NOT NULL REFERENCES clip_models(model_key),
        vector    BLOB NOT NULL,                  -- float32, L2-normalised
        PRIMARY KEY (image_id, model_key)
    );
    CREATE INDEX embeddings_model ON embeddings(model_key);

    CREATE TABLE text_embeddings (
        model_key TEXT NOT NULL,
        text      TEXT NOT NULL,
        vector    BLOB NOT NULL,
        PRIMARY KEY (model_key, text)
    );

    CREATE TABLE keyword_sets (
        hash       TEXT PRIMARY KEY,              -- stable hash of the set's content
        name       TEXT NOT NULL,
        json       TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
]
