// 8-bit images packed into u32 words. Keep in sync with src/kernels/resample.rs (Image8).
//
// Rows of `stride` words start at word `offset` of the buffer; byte j of a
// row (channel j % channels of pixel j / channels) is lane j % 4, bits
// 8 * (j % 4), of word j / 4 (little-endian, so an RGBA8 image uploads
// as-is). One layout serves RGBA images (a pixel per word) and gray masks
// (four pixels per word, a quarter of the memory); the padding bytes at the
// end of a row are 0.
struct Image8 {
    offset: u32,
    stride: u32,
    width: u32,
    height: u32,
}

// The four bytes of a word, lane 0 first.
fn unpack_lanes(w: u32) -> vec4<u32> {
    return (vec4(w) >> vec4(0u, 8u, 16u, 24u)) & vec4(0xffu);
}

// Four bytes (each < 256) into a word, lane 0 first.
fn pack_lanes(v: vec4<u32>) -> u32 {
    return v.x | (v.y << 8u) | (v.z << 16u) | (v.w << 24u);
}
