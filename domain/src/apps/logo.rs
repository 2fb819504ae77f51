//! Uploaded logos: at most 256 KiB, PNG, JPEG or SVG. Raster images are
//! decoded (with size limits) and re-encoded as PNG, so nothing but pixels
//! survives (no metadata, no polyglot tail). An SVG with active content
//! (scripts, event handlers, `javascript:` links, embedded HTML) is refused
//! with a message; any other is parsed into a plain drawing and written
//! back, which drops external references and everything that is not a
//! shape. Logos are also served with a sandboxing Content-Security-Policy.

use std::io::Cursor;
use std::sync::Arc;

/// Largest upload accepted, in bytes.
pub const MAX_BYTES: usize = proto::MAX_LOGO_BYTES;
/// Largest side of a raster logo, in pixels.
const MAX_SIDE: u32 = 2048;

/// A logo ready to store and serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanLogo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Checks and cleans an uploaded logo; the error is a message for the
/// person who uploaded it.
pub fn clean(bytes: &[u8]) -> Result<CleanLogo, String> {
    if bytes.is_empty() {
        return Err("The file is empty.".into());
    }
    if bytes.len() > MAX_BYTES {
        return Err(format!("The logo is too large: at most {} KiB.", MAX_BYTES / 1024));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return raster(bytes, image::ImageFormat::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return raster(bytes, image::ImageFormat::Jpeg);
    }
    if looks_like_svg(bytes) {
        return svg(bytes);
    }
    Err("Upload a PNG, JPEG or SVG image.".into())
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.contains("<svg"))
}

fn raster(bytes: &[u8], format: image::ImageFormat) -> Result<CleanLogo, String> {
    let unreadable = || "The image could not be read: the file is damaged or not really an image.".to_owned();
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!("The image is too large: at most {MAX_SIDE}×{MAX_SIDE} pixels."),
        _ => unreadable(),
    })?;
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).map_err(|_| unreadable())?;
    if out.len() > 4 * MAX_BYTES {
        return Err("The image is too detailed to store; use a smaller one.".into());
    }
    Ok(CleanLogo { content_type: "image/png", bytes: out })
}

/// Names what in an SVG document could run, if anything. The document
/// must parse as XML without a DTD (no entity tricks).
fn active_content(text: &str) -> Result<Option<&'static str>, String> {
    let options = roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|_| "The SVG image could not be read.".to_owned())?;
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let name = node.tag_name().name().to_ascii_lowercase();
        if matches!(name.as_str(), "script" | "foreignobject" | "iframe" | "embed" | "object" | "handler" | "listener") {
            return Ok(Some("a script or embedded page"));
        }
        for a in node.attributes() {
            if a.name().to_ascii_lowercase().starts_with("on") {
                return Ok(Some("an event handler"));
            }
            let value: String =
                a.value().chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
            if value.starts_with("javascript:") || value.starts_with("vbscript:") || value.starts_with("data:text/html") {
                return Ok(Some("a script link"));
            }
        }
    }
    Ok(None)
}

fn svg(bytes: &[u8]) -> Result<CleanLogo, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "The SVG image could not be read.".to_owned())?;
    if let Some(what) = active_content(text)? {
        return Err(format!("The SVG image contains {what}. Upload a plain drawing (export it again without scripts)."));
    }
    // Never read files or follow references named in the drawing; embedded
    // raster images (data: URLs) are kept, nested SVG documents are not.
    let options = usvg::Options {
        resources_dir: None,
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|mime: &str, data: Arc<Vec<u8>>, _: &usvg::Options| match mime {
                "image/png" => Some(usvg::ImageKind::PNG(data)),
                "image/jpeg" | "image/jpg" => Some(usvg::ImageKind::JPEG(data)),
                _ => None,
            }),
            resolve_string: Box::new(|_: &str, _: &usvg::Options| None),
        },
        ..Default::default()
    };
    let tree = usvg::Tree::from_data(bytes, &options).map_err(|_| "The SVG image could not be read.".to_owned())?;
    let out = tree.to_string(&usvg::WriteOptions::default());
    if out.len() > 4 * MAX_BYTES {
        return Err("The SVG image is too detailed to store; simplify it.".into());
    }
    Ok(CleanLogo { content_type: "image/svg+xml", bytes: out.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, 255]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn png_is_re_encoded_and_trailing_bytes_dropped() {
        let mut file = png(8, 8);
        // Threat: a polyglot file (an image with HTML or script appended)
        // served back from this origin. Re-encoding keeps only pixels.
        file.extend_from_slice(b"<script>alert(1)</script>");
        let clean = clean(&file).unwrap();
        assert_eq!(clean.content_type, "image/png");
        assert!(!clean.bytes.windows(7).any(|w| w == b"<script"));
        assert_eq!(image::load_from_memory(&clean.bytes).unwrap().width(), 8);
    }

    #[test]
    fn non_images_oversize_and_huge_images_are_refused() {
        assert!(clean(b"").is_err());
        assert!(clean(b"GIF89a....").unwrap_err().contains("PNG, JPEG or SVG"));
        assert!(clean(b"<html><body>hi</body></html>").is_err());
        assert!(clean(&vec![0u8; MAX_BYTES + 1]).unwrap_err().contains("too large"));
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"not really");
        assert!(clean(&fake).unwrap_err().contains("could not be read"));
        // Threat: a decompression bomb (small file, huge canvas).
        assert!(clean(&png(MAX_SIDE + 1, 1)).unwrap_err().contains("too large"));
    }

    /// Threat: stored XSS through an SVG logo. Any script, event handler,
    /// script link or embedded HTML gets the logo refused, with a message.
    #[test]
    fn svg_with_active_content_is_refused() {
        let svg =
            |inner: &str| format!(r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{inner}</svg>"#);
        for evil in [
            svg("<script>alert(1)</script>"),
            svg(r#"<rect width="3" height="3" onclick="alert(1)"/>"#),
            svg(r#"<a xlink:href=" java&#x09;script:alert(1)"><rect width="3" height="3"/></a>"#),
            svg(r#"<foreignObject><body xmlns="http://www.w3.org/1999/xhtml">x</body></foreignObject>"#),
            r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_owned(),
            r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"#.to_owned(),
        ] {
            assert!(clean(evil.as_bytes()).is_err(), "{evil}");
        }
        assert!(clean(svg("<script>").as_bytes()).unwrap_err().contains("could not be read"));
    }

    /// Threat: a logo that reads local files or tracks viewers through
    /// external references. Those are dropped; the shapes are kept.
    #[test]
    fn svg_is_rewritten_as_a_plain_drawing() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32">
            <metadata>secret notes</metadata>
            <rect width="32" height="32" fill="#c33"/>
            <image href="file:///etc/passwd" width="1" height="1"/>
            <image href="https://tracker.example/p.png" width="1" height="1"/>
        </svg>"##;
        let clean = clean(svg).unwrap();
        assert_eq!(clean.content_type, "image/svg+xml");
        let text = String::from_utf8(clean.bytes).unwrap();
        for gone in ["passwd", "tracker", "secret"] {
            assert!(!text.contains(gone), "{gone} survived: {text}");
        }
        assert!(text.contains("<path") || text.contains("<rect"), "the shape is kept: {text}");
        assert!(clean_is_err(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><unclosed></svg>"));
    }

    fn clean_is_err(b: &[u8]) -> bool {
        clean(b).is_err()
    }
}
