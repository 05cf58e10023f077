"""``node_frame``: the frame time of the add-on's relighting materials on a camera-sized plane, on a GPU without
Blender.

Blender's ``bpy`` does not install where the GPUs are (Python 3.12 there), so this renders a proxy: the arithmetic the
node groups compile to, written out as one OpenGL fragment shader (moderngl, EGL, no display). It follows what EEVEE
generates from the groups: every unlinked socket value is a uniform in a uniform block, each Mapping node builds its
rotation from Euler angles per fragment (``euler_to_mat3``), ELU + 1 is max + exp(min), HSH's basis comes from the
light per fragment, the decoders' output is decoded from sRGB, and the code or coefficient images are float RGBA
textures with mipmaps. It is a proxy, not EEVEE: the render engine's own passes (depth, the world, film
accumulation, overlays) cost more on top. Before timing, a small frame of each shader is checked against
``core.neural.nodeplan.evaluate`` and ``core.classic.hsh``, so the shader computes what the groups compute.
Needs ``moderngl`` (5.13.0 with glcontext 3.1.0, carried to the GPU machine as wheels; not in the project's
requirements) and EGL (``BENCH_FRAME_SIZES``: the planes' sizes, default 6000x4000: 24 MP).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from core.capture import lights
from core.classic import hsh
from core.classic.interpolated import InterpolatedRTI
from core.neural import nodeplan

from ..conftest import random_model
from .report import table, write_section

SIZES = [(int(s.split("x")[0]), int(s.split("x")[1])) for s in os.environ.get("BENCH_FRAME_SIZES", "6000x4000").split()]
VIEWPORT = (3840, 2160)
"""A 4K viewport that the plane fills: what a user sees while dragging the light."""
FRAMES = 30

VERTEX = """
#version 330
in vec2 corner;
out vec2 uv;
void main() { uv = corner * 0.5 + 0.5; gl_Position = vec4(corner, 0.0, 1.0); }
"""

COMMON = """
#version 330
in vec2 uv;
out vec4 colour;
uniform vec3 light;
mat3 euler_to_mat3(vec3 e)
{
  float cx = cos(e.x), cy = cos(e.y), cz = cos(e.z), sx = sin(e.x), sy = sin(e.y), sz = sin(e.z);
  return mat3(cy * cz, cy * sz, -sy,
              sy * sx * cz - cx * sz, sy * sx * sz + cx * cz, cy * sx,
              sy * cx * cz + sx * sz, sy * cx * sz - sx * cz, cy * cx);
}
vec3 mapping_point(vec3 v, vec3 location, vec3 rotation, vec3 scale)
{
  return euler_to_mat3(rotation) * (v * scale) + location;
}
vec3 elu_plus_one(vec3 x) { return max(x, 0.0) + exp(min(x, 0.0)); }
vec3 srgb_to_linear(vec3 v)
{
  vec3 high = pow(max(v / 1.055 + 0.055 / 1.055, 0.0), vec3(2.4));  // Math POWER: 0 for a negative base
  return vec3(lessThan(v, vec3(0.04045))) * (v / 12.92 - high) + high;
}
"""


@dataclass
class Shader:
    """A fragment shader's source, its uniform block's values (vec4 rows) and its samplers' names (those of light
    tables, ``t…``, filtered linearly without mipmaps, as the add-on's table textures are)."""

    source: str
    uniforms: np.ndarray
    samplers: list[str]


def neural_shader(dense: list[nodeplan.Dense]) -> Shader:
    """The decoder groups of ``core.neural.nodeplan`` as EEVEE compiles them: two Mapping nodes per 3×3 block."""
    rows: list[np.ndarray] = []

    def uniform(value: np.ndarray) -> str:
        rows.append(np.append(np.asarray(value, np.float32), 0.0))
        return f"u[{len(rows) - 1}].xyz"

    lines = ["vec3 x0 = texture(plane0, uv).rgb, x1 = texture(plane1, uv).rgb, x2 = texture(plane2, uv).rgb;",
             "vec3 x3 = light;"]
    inputs = ["x0", "x1", "x2", "x3"]
    for index, layer in enumerate(dense):
        outputs = []
        for t, (weights, bias) in enumerate(layer.triples):
            count = -(-len(weights) // 3)
            block_rows = np.zeros((3 * count, 3))
            block_rows[: len(weights)] = weights
            total = uniform(bias)
            for k in range(count):
                block = block_rows[3 * k : 3 * k + 3]
                if not block.any():
                    continue
                pair = nodeplan.mapping(block.T)
                first = f"mapping_point({inputs[k]}, vec3(0.0), {uniform(pair.first)}, vec3(1.0))"
                total = f"mapping_point({first}, {total}, {uniform(pair.second)}, {uniform(pair.scale)})"
                name = f"s{index}_{t}_{k}"
                lines.append(f"vec3 {name} = {total};")
                total = name
            out = f"y{index}_{t}"
            lines.append(f"vec3 {out} = {'elu_plus_one(' + total + ')' if layer.elu else total};")
            outputs.append(out)
        inputs = outputs
    body = "\n  ".join(lines)
    source = (COMMON + f"layout(std140) uniform Nodes {{ vec4 u[{len(rows)}]; }};\n"
              "uniform sampler2D plane0, plane1, plane2;\n"
              f"void main()\n{{\n  {body}\n  colour = vec4(srgb_to_linear({inputs[0]}), 1.0);\n}}\n")
    return Shader(source, np.array(rows, np.float32), ["plane0", "plane1", "plane2"])


HSH3 = """
uniform sampler2D c0, c1, c2, c3, c4, c5, c6, c7, c8;
uniform float min_elevation;
void main()
{
  const float pi = 3.14159265358979;
  float theta = min(acos(clamp(light.z, -1.0, 1.0)), pi / 2.0 - min_elevation);
  float phi = atan(light.y, light.x);
  float c = cos(theta), c2_c = c * c - c, s = sqrt(-c2_c), two_c_1 = 2.0 * c - 1.0;
  float k = sqrt(30.0 / pi);
  vec3 sum = texture(c0, uv).rgb * (1.0 / sqrt(2.0 * pi));
  sum += texture(c1, uv).rgb * (cos(phi) * s * sqrt(6.0 / pi));
  sum += texture(c2, uv).rgb * (two_c_1 * sqrt(3.0 / (2.0 * pi)));
  sum += texture(c3, uv).rgb * (sin(phi) * s * sqrt(6.0 / pi));
  sum += texture(c4, uv).rgb * (cos(2.0 * phi) * c2_c * k);
  sum += texture(c5, uv).rgb * (cos(phi) * two_c_1 * s * k);
  sum += texture(c6, uv).rgb * ((6.0 * c2_c + 1.0) * sqrt(5.0 / (2.0 * pi)));
  sum += texture(c7, uv).rgb * (sin(phi) * two_c_1 * s * k);
  sum += texture(c8, uv).rgb * (sin(2.0 * phi) * c2_c * k);
  colour = vec4(srgb_to_linear(sum), 1.0);
}
"""


def hsh3_shader() -> Shader:
    """The HSH3 group of ``blender_addon.classic_nodes``: the basis from the light, nine coefficient images."""
    return Shader(COMMON + HSH3, np.zeros((0, 4), np.float32), [f"c{k}" for k in range(9)])


RBF = """
uniform sampler2D p0, p1, p2, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9;
uniform float side;
void main()
{
  float s = abs(light.x) + abs(light.y) + abs(light.z);
  float scale = (side - 1.0) / side / 2.0;
  vec2 at = vec2(light.x + light.y, light.y - light.x) / s * scale + scale + 0.5 / side;
  vec3 a = texture(p0, uv).rgb, b = texture(p1, uv).rgb, c = texture(p2, uv).rgb;
  vec3 sum = texture(t0, at).rgb;
  sum += a.r * texture(t1, at).rgb + a.g * texture(t2, at).rgb + a.b * texture(t3, at).rgb;
  sum += b.r * texture(t4, at).rgb + b.g * texture(t5, at).rgb + b.b * texture(t6, at).rgb;
  sum += c.r * texture(t7, at).rgb + c.g * texture(t8, at).rgb + c.b * texture(t9, at).rgb;
  colour = vec4(srgb_to_linear(sum), 1.0);
}
"""


def rbf_shader() -> Shader:
    """The group of ``blender_addon.interpolated_nodes`` for relight's default RBF (9 planes): the light folded onto
    the table's square, ten table lookups, the planes' dot product with them."""
    samplers = [f"p{k}" for k in range(3)] + [f"t{k}" for k in range(10)]
    return Shader(COMMON + RBF, np.zeros((0, 4), np.float32), samplers)


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v < 0.04045, v / 12.92, np.maximum((v + 0.055) / 1.055, 0.0) ** 2.4)


class Renderer:
    """One shader drawn over a full-screen quad into a float framebuffer of a given size."""

    def __init__(self, ctx, shader: Shader, planes: list[np.ndarray], size: tuple[int, int]):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=VERTEX, fragment_shader=shader.source)
        self.textures = []
        for unit, (name, plane) in enumerate(zip(shader.samplers, planes)):
            height, width = plane.shape[:2]
            rgba = np.concatenate([plane, np.ones((height, width, 1), np.float32)], axis=-1)
            table = name.startswith("t")  # a light table: its row 0 at the bottom, as the add-on's images
            data = np.ascontiguousarray(rgba if table else rgba[::-1]).tobytes()
            texture = ctx.texture((width, height), 4, data, dtype="f4")
            if table:
                texture.repeat_x = texture.repeat_y = False
                texture.filter = (ctx.LINEAR, ctx.LINEAR)
            else:
                texture.build_mipmaps()
            texture.use(unit)
            self.program[name] = unit
            self.textures.append(texture)
        if len(shader.uniforms):
            self.block = ctx.buffer(shader.uniforms.tobytes())
            self.program["Nodes"].binding = 0
            self.block.bind_to_uniform_block(0)
        if "min_elevation" in self.program:
            self.program["min_elevation"] = hsh.MIN_ELEVATION
        if "side" in self.program:
            self.program["side"] = float(planes[-1].shape[0])
        quad = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], np.float32).tobytes())
        self.vao = ctx.vertex_array(self.program, [(quad, "2f", "corner")])
        self.target = ctx.framebuffer([ctx.renderbuffer(size, 4, dtype="f2")])
        self.size = size

    def draw(self, light: np.ndarray) -> None:
        self.program["light"] = tuple(float(v) for v in light)
        self.target.use()
        self.ctx.viewport = (0, 0, *self.size)
        self.vao.render(mode=self.ctx.TRIANGLE_STRIP)

    def read(self) -> np.ndarray:
        data = np.frombuffer(self.target.read(components=4, dtype="f2"), np.float16)
        return data.reshape(self.size[1], self.size[0], 4)[::-1, :, :3].astype(np.float32)

    def frame_ms(self) -> float:
        """Median milliseconds of a frame, the light moving each frame, over ``FRAMES`` frames (GPU time)."""
        times = []
        for k in range(FRAMES):
            angle = 2 * np.pi * k / FRAMES
            light = np.array([0.5 * np.cos(angle), 0.5 * np.sin(angle), np.sqrt(0.75)])
            self.ctx.finish()
            start = time.perf_counter()
            self.draw(light)
            self.ctx.finish()
            times.append(time.perf_counter() - start)
        return float(np.median(times)) * 1e3

    def release(self) -> None:
        for texture in self.textures:
            texture.release()
        self.target.release()


Material = tuple[Shader, list[np.ndarray], Callable[[np.ndarray], np.ndarray]]


def decoded(dense: list[nodeplan.Dense], codes: np.ndarray, light: np.ndarray) -> np.ndarray:
    return srgb_to_linear(nodeplan.evaluate(dense, codes.reshape(-1, 9), light).reshape(*codes.shape[:2], 3))


def hsh3_relit(coefficients: np.ndarray, light: np.ndarray) -> np.ndarray:
    return srgb_to_linear(np.einsum("hwkc,k->hwc", coefficients, hsh.basis(light[None], 3)[0]))


def materials(size: tuple[int, int], seed: int = 0) -> dict[str, Material]:
    """The student, teacher and HSH3 materials of ``size`` (width, height): shader, texture planes and a function of
    the light that the numpy reference computes the colours with."""
    width, height = size
    rng = np.random.default_rng(seed)
    made: dict[str, Material] = {}
    for name, units in (("student", 20), ("teacher", 50)):
        dense = nodeplan.plan(random_model(units, (1, 1), seed=seed).layers)
        codes = rng.standard_normal((height, width, 9), dtype=np.float32)
        made[name] = (neural_shader(dense), [codes[..., 3 * k : 3 * k + 3] for k in range(3)],
                      partial(decoded, dense, codes))
    coefficients = 0.5 * rng.standard_normal((height, width, 9, 3), dtype=np.float32)
    coefficients[:, :, 0] += 0.6 * np.sqrt(2 * np.pi)  # a mid-grey constant term: colours mostly in [0, 1]
    made["HSH3"] = (hsh3_shader(), [coefficients[:, :, k] for k in range(9)], partial(hsh3_relit, coefficients))
    del coefficients
    basis = 0.02 * rng.standard_normal((10, 63, 3), dtype=np.float32)
    basis[0] += 0.5
    rbf = InterpolatedRTI("rbf", rng.standard_normal((9, height, width), dtype=np.float32), basis,
                          lights.fibonacci(63), sigma=0.125)
    planes = [np.moveaxis(rbf.planes[3 * k : 3 * k + 3], 0, -1) for k in range(3)]
    made["RBF (relight)"] = (rbf_shader(), planes + list(rbf.light_table()), lambda light: srgb_to_linear(
        rbf.relight(light)))
    return made


def checked(ctx) -> list[str]:
    """Each shader against its numpy reference on a 64² frame (texel for texel): the largest differences."""
    lines = []
    light = np.array([0.3, -0.4, np.sqrt(1 - 0.25)])
    for name, (shader, planes, reference) in materials((64, 64), seed=3).items():
        renderer = Renderer(ctx, shader, planes, (64, 64))
        renderer.draw(light)
        expected = reference(light)
        error = float(np.max(np.abs(renderer.read() - expected) / np.maximum(1.0, np.abs(expected))))
        renderer.release()
        if error > 5e-3:
            raise RuntimeError(f"the {name} shader differs from its reference by {error:.2g}")
        lines.append(f"{name} {error:.1e}")
    return lines


def node_frame() -> None:
    import moderngl

    ctx = moderngl.create_standalone_context(backend="egl")
    agreement = checked(ctx)
    rows = []
    for size in SIZES:
        times: dict[str, list[float]] = {}
        for name, (shader, planes, _) in materials(size).items():
            for target in (size, VIEWPORT):
                renderer = Renderer(ctx, shader, planes, target)
                renderer.frame_ms()  # warm-up: compile, upload
                times.setdefault(name, []).append(renderer.frame_ms())
                renderer.release()
            del planes
        for name, (full, viewport) in times.items():
            rows.append([f"{size[0]}×{size[1]} ({size[0] * size[1] / 1e6:.0f} MP)", name, f"{full:.2f}",
                         f"{viewport:.2f}", f"{full / times['student'][0]:.2f}"])
    renderer_name = ctx.info["GL_RENDERER"]
    body = (f"A proxy, not Blender: the node groups' arithmetic as one fragment shader (module docstring of "
            f"`tests/benchmarks/shader.py`), drawn by OpenGL through EGL on {renderer_name}, float32 RGBA textures "
            f"with mipmaps, a float16 target; median of {FRAMES} frames with the light moving every frame, GPU "
            f"finished before and after each. Each shader first agreed with its numpy reference on a 64² frame "
            f"(largest relative difference: {', '.join(agreement)}).\n\n"
            + table(["plane", "material", "every texel drawn once (ms)",
                     f"{VIEWPORT[0]}×{VIEWPORT[1]} viewport filled by the plane (ms)", "÷ student"], rows))
    write_section("node_frame", "Relighting materials on a camera-sized plane (GPU proxy)", body,
                  "python3 build.py bench node_frame")
    ctx.release()
