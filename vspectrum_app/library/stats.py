"""Library statistics: counts per platform and per month (post date, else import date)."""

from __future__ import annotations

from typing import Any

from vspectrum_app.core.workspace import Workspace


def library_stats(ws: Workspace) -> dict[str, Any]:
    db = ws.db
    total = db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    platforms = {
        r[0] or "unknown": r[1]
        for r in db.execute("SELECT platform, COUNT(*) FROM images GROUP BY platform ORDER BY COUNT(*) DESC")
    }
    months = {
        r[0]: r[1]
        for r in db.execute(
            "SELECT substr(COALESCE(post_date, imported_at), 1, 7) AS month, COUNT(*) FROM images "
            "GROUP BY month ORDER BY month"
        )
    }
    flagged = db.execute("SELECT COUNT(*) FROM images WHERE flags != ''").fetchone()[0]
    models = {r[0]: r[1] for r in db.execute("SELECT model_key, COUNT(*) FROM embeddings GROUP BY model_key")}
    return {
        "images": total,
        "flagged": flagged,
        "per_platform": platforms,
        "per_month": months,
        "embedded_per_model": models,
    }
