-- The photo sweep asks which stored files a photo row still references:
-- originals and derived versions, by their blob keys.
CREATE INDEX photos_path ON photos(path);
CREATE INDEX photos_large_path ON photos(large_path);
CREATE INDEX photos_thumb_path ON photos(thumb_path);
