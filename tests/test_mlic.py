import numpy as np
import pytest

from core.capture import images, mlic, splits
from core.errors import RTIError

from .conftest import write_mlic


@pytest.mark.parametrize(("ext", "dtype"), [(".png", np.uint8), (".png", np.uint16), (".tif", np.uint16), (".tiff", np.uint8)])
def test_lossless_images_read_back_exactly_in_their_stored_depth(tmp_path, tiny_stack, ext, dtype):
    stack, dirs = tiny_stack
    if dtype == np.uint16:  # use all 16 bits, so a reader that drops to 8 bits would fail
        stack = stack.astype(np.uint16) * 257 - np.arange(12, dtype=np.uint16)[None, None, :, None]
    data = mlic.load(write_mlic(tmp_path, stack, dirs, ext))
    assert data.images.dtype == dtype and data.bit_depth == 8 * np.dtype(dtype).itemsize
    np.testing.assert_array_equal(data.images, stack)
    np.testing.assert_allclose(data.lights, dirs)
    assert (data.count, data.height, data.width) == (6, 10, 12)


def test_jpeg_images_read_as_8_bit(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    smooth = np.broadcast_to(np.linspace(0, 255, 12, dtype=np.uint8)[None, None, :, None], stack.shape).copy()
    data = mlic.load(write_mlic(tmp_path, smooth, dirs, ".jpg") / "dirs.lp")
    assert data.images.dtype == np.uint8
    assert np.abs(data.images.astype(int) - smooth).max() <= 3


def test_save_then_load_round_trip_with_mask(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    mask = np.zeros((10, 12), bool)
    mask[2:7, 3:9] = True
    original = mlic.MLIC(stack, dirs, [f"im{i}.png" for i in range(6)], mask)
    mlic.save(original, tmp_path / "out")
    back = mlic.load(tmp_path / "out")
    np.testing.assert_array_equal(back.images, stack)
    np.testing.assert_array_equal(back.mask, mask)
    assert back.names == original.names


def test_grayscale_images_become_rgb_and_opaque_alpha_is_dropped(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    folder = write_mlic(tmp_path, stack[:2], dirs[:2])
    images.write_image(folder / "image_000.png", stack[0, :, :, 0])
    rgba = np.concatenate([stack[1], np.full((10, 12, 1), 255, np.uint8)], axis=2)
    images.write_image(folder / "image_001.png", rgba)
    data = mlic.load(folder)
    np.testing.assert_array_equal(data.images[0], np.repeat(stack[0, :, :, :1], 3, axis=2))
    np.testing.assert_array_equal(data.images[1], stack[1])


def expect_error(folder, message):
    with pytest.raises(RTIError) as err:
        mlic.load(folder)
    text = str(err.value)
    assert message in text and "\n" not in text
    return text


def test_missing_image(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    (folder / "image_003.png").unlink()
    assert "image_003.png" in expect_error(folder, "image file not found")


def test_unreadable_image(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    (folder / "image_002.png").write_bytes(b"not a png at all")
    assert "image_002.png" in expect_error(folder, "not a readable image")


def test_png_whose_chunk_runs_past_its_end_is_refused(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    data = bytearray((folder / "image_002.png").read_bytes())
    data[33:37] = (2**31 - 1).to_bytes(4, "big")  # the length of the chunk after IHDR
    (folder / "image_002.png").write_bytes(bytes(data))
    assert "image_002.png" in expect_error(folder, "a PNG chunk runs past the end of the file")


def test_empty_image_file(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    (folder / "image_002.png").write_bytes(b"")
    expect_error(folder, "not a readable image")


def test_more_lights_announced_than_listed(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    text = "7\n" + "".join(f"image_{i:03d}.png {x} {y} {z}\n" for i, (x, y, z) in enumerate(dirs))
    expect_error(write_mlic(tmp_path, stack, dirs, lp_text=text), "header says 7 lights but the file lists 6")


def test_mixed_sizes(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    images.write_image(folder / "image_004.png", np.zeros((11, 12, 3), np.uint8))
    assert "image_004.png" in expect_error(folder, "image is 12x11, the first image is 12x10")


def test_mixed_bit_depths(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    images.write_image(folder / "image_001.png", np.zeros((10, 12, 3), np.uint16))
    expect_error(folder, "16-bit channels, the first image 8-bit")


def test_transparent_alpha_is_refused(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 3] = 128
    images.write_image(folder / "image_000.png", rgba)
    expect_error(folder, "transparent alpha channel")


def test_mask_of_the_wrong_size(tmp_path, tiny_stack):
    folder = write_mlic(tmp_path, *tiny_stack)
    images.write_image(folder / "mask.png", np.full((5, 5), 255, np.uint8))
    expect_error(folder, "mask is 5x5, images are 12x10")


def test_bad_directions_and_duplicates_are_reported_through_load(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    bad = "2\nimage_000.png 0 0 -1\nimage_001.png 0 0 1\n"
    expect_error(write_mlic(tmp_path / "a", stack[:2], dirs[:2], lp_text=bad), "below the surface")
    dup = "2\nimage_000.png 0 0 1\nimage_000.png 0 0 1\n"
    expect_error(write_mlic(tmp_path / "b", stack[:2], dirs[:2], lp_text=dup), "listed twice")


def test_folder_without_or_with_several_lp_files(tmp_path, tiny_stack):
    expect_error(tmp_path, "no .lp light file")
    folder = write_mlic(tmp_path / "m", *tiny_stack)
    (folder / "other.lp").write_text("1\nimage_000.png 0 0 1\n")
    expect_error(folder, "several .lp files")
    assert mlic.load(folder / "other.lp").count == 1
    expect_error(tmp_path / "nowhere", "no such file or folder")


def test_leave_k_out_holds_out_every_kth_light(tmp_path, tiny_stack):
    data = mlic.load(write_mlic(tmp_path, *tiny_stack))
    train, test = splits.leave_k_out(data, every=3, offset=1)
    assert test.names == ["image_001.png", "image_004.png"]
    assert train.names == ["image_000.png", "image_002.png", "image_003.png", "image_005.png"]
    np.testing.assert_array_equal(test.images[1], data.images[4])
    with pytest.raises(RTIError):
        splits.leave_k_out(data, every=1)


def test_split_folder_copies_files_untouched_and_is_found_by_part(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    data = mlic.load(write_mlic(tmp_path / "src", stack, dirs, ".jpg"))
    splits.write_split(*splits.leave_k_out(data, every=2), tmp_path / "split")
    assert (tmp_path / "split/test/image_002.jpg").read_bytes() == (tmp_path / "src/image_002.jpg").read_bytes()
    assert splits.load_part(tmp_path / "split", "train").count == 3
    assert splits.load_part(tmp_path / "split", "test").names == ["image_000.jpg", "image_002.jpg", "image_004.jpg"]


def test_synthrti_dome_and_test_folders_are_recognised(tmp_path, tiny_stack):
    stack, dirs = tiny_stack
    write_mlic(tmp_path / "scene/Dome", stack[:4], dirs[:4])
    write_mlic(tmp_path / "scene/Test", stack[4:], dirs[4:])
    assert splits.load_part(tmp_path / "scene", "train").count == 4
    assert splits.load_part(tmp_path / "scene", "test").count == 2
    assert splits.load_part(tmp_path / "scene/Test", "train").count == 2  # a plain MLIC is used as it is
