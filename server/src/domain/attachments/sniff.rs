//! What a file is, by its first bytes rather than its name: only these image types are
//! ever shown in a browser (`<img src>`); everything else is served as a download.
//! SVG is not among them: it is a document that can run script.

/// How many of the first bytes the check needs.
pub const HEAD_BYTES: usize = 16;

/// The file's image type, or `application/octet-stream`.
pub fn media_type(head: &[u8]) -> &'static str {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        "image/gif"
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        "image/webp"
    } else {
        OCTET_STREAM
    }
}

pub const OCTET_STREAM: &str = "application/octet-stream";

/// Whether a browser may show it in place.
pub fn is_image(media_type: &str) -> bool {
    media_type != OCTET_STREAM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_bytes_and_nothing_else_is_an_image() {
        assert_eq!(media_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(media_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), "image/jpeg");
        assert_eq!(media_type(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(media_type(b"RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(media_type(b"<html><script>alert(1)</script>"), OCTET_STREAM);
        assert_eq!(
            media_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\">"),
            OCTET_STREAM
        );
        assert_eq!(media_type(b"RIFF\x24\0\0\0WAVEfmt "), OCTET_STREAM);
        assert_eq!(media_type(b""), OCTET_STREAM);
    }
}
