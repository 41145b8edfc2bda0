//! JPEG decoding: the pixels Pillow (so rembg) decodes, on every way a
//! JPEG can be coded in tests/data/jpeg, and truncated or corrupt files
//! refused unless allowed (then decoded with a warning).

use std::path::{Path, PathBuf};

use u2cut::Error;
use u2cut::io::{DecodeOptions, decode_file};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jpeg")
}

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    v.sort();
    v
}

#[test]
fn jpegs_decode_to_pillows_pixels() {
    let cases = jpegs(&data());
    assert!(cases.len() >= 10, "{cases:?}");
    for path in cases {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let ours =
            decode_file(&path, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(ours.warning.is_none(), "{name}: {:?}", ours.warning);
        let pillow = image::open(data().join(format!("pillow/{name}.png")))
            .unwrap()
            .into_rgb8();
        assert_eq!(ours.image.dimensions(), pillow.dimensions(), "{name}");
        let differing = ours
            .image
            .pixels()
            .zip(pillow.pixels())
            .filter(|(o, p)| o.0[..3] != p.0 || o.0[3] != 255)
            .count();
        assert_eq!(differing, 0, "{name}: pixels differ from Pillow's");
    }
}

#[test]
fn damaged_jpegs_are_refused_unless_allowed() {
    let damaged = jpegs(&data().join("damaged"));
    assert_eq!(damaged.len(), 4, "{damaged:?}");
    let allow = DecodeOptions {
        allow_truncated: true,
        ..DecodeOptions::default()
    };
    for path in damaged {
        let name = path.display();
        match decode_file(&path, &DecodeOptions::default()) {
            Err(Error::Input(m)) => {
                assert!(m.contains("truncated or corrupt JPEG"), "{name}: {m}");
                assert!(m.contains("--allow-truncated"), "{name}: {m}");
            }
            Err(e) => panic!("{name}: not an input error: {e}"),
            Ok(_) => panic!("{name}: decoded without complaint"),
        }
        let decoded = decode_file(&path, &allow).unwrap_or_else(|e| panic!("{name}: {e}"));
        let warning = decoded.warning.unwrap_or_default();
        assert!(
            warning.contains("truncated or corrupt JPEG"),
            "{name}: {warning}"
        );
        assert_eq!(decoded.image.dimensions(), (160, 120), "{name}");
    }
}
