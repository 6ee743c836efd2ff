"""The screenshot library: workspace catalog, image files, CLIP embeddings, HNSW index, search."""
