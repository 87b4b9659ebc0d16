// Taylor mode (forward Laplacian) of the per-sample operators: every primitive with a
// taylor2 rule, on its test-spec inputs, gives the Laplacian and Hessian diagonal of the
// vmap(jvp(grad)) path and of float64 central differences; laplacian, hessianDiagonal and
// divergence of MLPs agree with that path to 1e-9; the outer parameter gradient of a PINN
// loss built on the Taylor Laplacian agrees with the old path and with finite differences
// in reverse and forward mode; a primitive without a rule falls back and is still right.
import { describe, expect, it } from "vitest";
import * as ng from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { PRIMITIVES } from "../src/primitives/index.js";
import type { DefinedPrimitive } from "../src/primitives/define.js";
import { bind } from "../src/core/trace.js";
import { setOperatorLogSink } from "../src/operators/taylor.js";
import { specInputs } from "./spec-inputs.js";

const f64 = { dtype: "float64" } as const;

function values(t: Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number>);
}

function expectClose(a: Tensor | number[], b: Tensor | number[], tol: number, what: string) {
  const av = Array.isArray(a) ? a : values(a);
  const bv = Array.isArray(b) ? b : values(b);
  expect(av.length, what).toBe(bv.length);
  const scale = Math.max(1, ...bv.map(Math.abs));
  av.forEach((v, i) => {
    if (!(Math.abs(v - bv[i]!) <= tol * scale)) {
      throw new Error(`${what}: entry ${i}: ${v} vs ${bv[i]} (tolerance ${tol * scale})`);
    }
  });
}

/** Σ_j (f(x + h e_j) − 2 f(x) + f(x − h e_j)) / h² for x [1, n] and f(x) [1]: the FD Laplacian. */
function fdLaplacian(f: (x: Tensor) => Tensor, x: Tensor, h = 1e-4): number {
  const x0 = values(x);
  const at = (v: number[]) => values(f(ng.array([v], f64)))[0]!;
  const f0 = at(x0);
  let lap = 0;
  for (let j = 0; j < x0.length; j++) {
    const up = x0.slice();
    const dn = x0.slice();
    up[j]! += h;
    dn[j]! -= h;
    lap += (at(up) - 2 * f0 + at(dn)) / (h * h);
  }
  return lap;
}

const withRule = PRIMITIVES.filter((p) => (p as DefinedPrimitive<unknown>).taylor2 !== undefined);

describe("Taylor rules of the registry", () => {
  it("cover the primitives an MLP uses", () => {
    const names = withRule.map((p) => p.name);
    for (const n of [
      "matmul",
      "add",
      "mul",
      "sub",
      "tanh",
      "sin",
      "exp",
      "log1p",
      "where",
      "reshape",
      "broadcastTo",
      "sum",
    ]) {
      expect(names).toContain(n);
    }
  });

  const FD_CHECKED = new Set([
    "tanh",
    "mul",
    "matmul",
    "div",
    "pow",
    "where",
    "exp",
    "take",
    "prod",
  ]);
  describe.each(withRule.map((p) => [p.name, p as DefinedPrimitive<any>] as const))(
    "%s",
    (name, prim) => {
      prim.testSpec.cases.forEach((c, k) => {
        it(`case ${k}: Taylor Laplacian and Hessian diagonal equal vmap(jvp(grad))`, () => {
          const consts = specInputs(c.inputs, 300 + k, "float64");
          const varying = c.inputs.map(
            (inp) => !inp.fixed && (inp.dtype ?? "float64") !== "int32" && inp.dtype !== "bool",
          );
          const sizes = consts.map((t) => t.size);
          const n = sizes.reduce((s, m, i) => s + (varying[i] ? m : 0), 0);
          if (n === 0) return;
          // Each varying input is a one-hot selection of x's row (matmul) reshaped to its shape.
          let off = 0;
          const selectors = consts.map((t, i) => {
            if (!varying[i]) return null;
            const sel = ng.array(
              Array.from({ length: n }, (_r, r) =>
                Array.from({ length: t.size }, (_c, col) => (r === off + col ? 1 : 0)),
              ),
              f64,
            );
            off += t.size;
            return sel;
          });
          const outs0 = bind(prim, consts, c.params);
          const ws = outs0.map((o, i) =>
            ng.random.uniform(ng.random.key(7 + i), o.shape.length ? [...o.shape] : [], {
              minval: -1,
              maxval: 1,
              ...f64,
            }),
          );
          // s(x) = Σ w·y + Σ w·y²/2 over the float outputs: second order in the jets of y too.
          const f = (x: Tensor): Tensor => {
            const ins = consts.map((t, i) =>
              selectors[i] ? ng.reshape(ng.matmul(x, selectors[i]!), [...t.shape]) : t,
            );
            const ys = bind(prim, ins, c.params);
            let s: Tensor = ng.zeros([], f64);
            ys.forEach((y, i) => {
              if (y.dtype !== "float64") return;
              s = ng.add(s, ng.sum(ng.mul(ws[i]!, ng.add(y, ng.mul(0.5, ng.mul(y, y))))));
            });
            return ng.reshape(s, [1]);
          };
          const x = ng.reshape(
            ng.concatenate(
              consts.filter((_t, i) => varying[i]).map((t) => ng.reshape(t, [t.size])),
            ),
            [1, n],
          );
          const lapT = ng.laplacian(f, { method: "taylor" })(x);
          const lapH = ng.laplacian(f, { method: "hvp" })(x);
          expectClose(lapT, lapH, 1e-9, `${name} laplacian`);
          const diagT = ng.hessianDiagonal(f, { method: "taylor" })(x);
          const diagH = ng.hessianDiagonal(f, { method: "hvp" })(x);
          expectClose(diagT, diagH, 1e-9, `${name} hessianDiagonal`);
          expectClose(ng.sum(diagT, 1), lapT, 1e-12, `${name} Σ diag = laplacian`);
          if (FD_CHECKED.has(name)) {
            expectClose(lapT, [fdLaplacian(f, x)], 1e-5, `${name} laplacian vs finite differences`);
          }
        });
      });
    },
  );
});

type Params = { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor; W3: Tensor };

function mlpParams(d: number, out: number, seed: number): Params {
  const ks = ng.random.split(ng.random.key(seed), 5);
  const normal = (k: number, shape: number[], s: number) =>
    ng.mul(ng.random.normal(ks[k]!, shape, f64), s);
  return {
    W1: normal(0, [d, 12], 1 / Math.sqrt(d)),
    b1: normal(1, [12], 0.3),
    W2: normal(2, [12, 12], 0.4),
    b2: normal(3, [12], 0.3),
    W3: normal(4, [12, out], 0.4),
  };
}

const ACTIVATIONS: [string, (x: Tensor) => Tensor][] = [
  ["tanh", ng.tanh],
  ["softplus", ng.softplus],
  ["sin", ng.sin],
];

function mlp(act: (x: Tensor) => Tensor) {
  return (p: Params) =>
    (x: Tensor): Tensor =>
      ng.matmul(act(ng.add(ng.matmul(act(ng.add(ng.matmul(x, p.W1), p.b1)), p.W2), p.b2)), p.W3);
}

describe("operators in Taylor mode on MLPs agree with vmap(jvp(grad))", () => {
  for (const [aname, act] of ACTIVATIONS) {
    for (const d of [1, 3, 16]) {
      it(`${aname}, d = ${d}`, () => {
        const B = 5;
        const x = ng.random.normal(ng.random.key(d), [B, d], f64);
        const u = (z: Tensor) => ng.reshape(mlp(act)(mlpParams(d, 1, 11))(z), [B]);
        for (const op of [ng.laplacian, ng.hessianDiagonal] as const) {
          const t = op(u, { method: "taylor" })(x);
          expectClose(t, op(u, { method: "hvp" })(x), 1e-9, `${aname} d=${d} ${op.name}`);
          expectClose(op(u)(x), t, 0, `${aname} d=${d} ${op.name} auto = taylor`);
        }
        const field = mlp(act)(mlpParams(d, d, 12));
        expectClose(
          ng.divergence(field, { method: "taylor" })(x),
          ng.divergence(field, { method: "hvp" })(x),
          1e-9,
          `${aname} d=${d} divergence`,
        );
      });
    }
  }

  it("the Laplacian of |x|² is 2d and a constant field has zero Laplacian", () => {
    const x = ng.random.normal(ng.random.key(3), [4, 3], f64);
    expectClose(
      ng.laplacian((z: Tensor) => ng.sum(ng.mul(z, z), 1), { method: "taylor" })(x),
      [6, 6, 6, 6],
      1e-12,
      "|x|²",
    );
    const c = ng.ones([4], f64);
    expectClose(ng.laplacian(() => c, { method: "taylor" })(x), [0, 0, 0, 0], 0, "constant");
  });
});

describe("Taylor mode composes with jit and vmap", () => {
  it("jit(laplacian) and vmap(laplacian) equal the eager hvp path", () => {
    const x = ng.random.normal(ng.random.key(41), [4, 3], f64);
    const W = ng.random.normal(ng.random.key(42), [3, 5], f64);
    const u = (z: Tensor) => ng.sum(ng.tanh(ng.matmul(z, W)), 1);
    const want = ng.laplacian(u, { method: "hvp" })(x);
    expectClose(ng.jit((z: Tensor) => ng.laplacian(u)(z))(x) as Tensor, want, 1e-12, "jit");
    const xs = ng.stack([x, ng.mul(x, 2)]);
    const vm = ng.vmap((z: Tensor) => ng.laplacian(u, { method: "taylor" })(z))(xs) as Tensor;
    const rows = vm.toArray() as number[][];
    expect(vm.shape).toEqual([2, 4]);
    expectClose(rows[0]!, want, 1e-12, "vmap, first");
    expectClose(rows[1]!, ng.laplacian(u, { method: "hvp" })(ng.mul(x, 2)), 1e-12, "vmap, second");
  });
});

describe("PINN training through the Taylor Laplacian", () => {
  const d = 3;
  const B = 6;
  const x = ng.random.normal(ng.random.key(21), [B, d], f64);
  const g = ng.random.normal(ng.random.key(22), [B], f64);
  const ps0 = mlpParams(d, 1, 23);
  const lossOf = (method: "taylor" | "hvp") => (p: Params) => {
    const u = (z: Tensor) => ng.reshape(mlp(ng.tanh)(p)(z), [B]);
    const r = ng.sub(ng.laplacian(u, { method })(x), g);
    return ng.add(ng.mean(ng.mul(r, r)), ng.mean(ng.mul(u(x), u(x))));
  };
  const V = ng.tree.map(
    (t: Tensor) => ng.random.normal(ng.random.key(t.size + t.ndim), [...t.shape], f64),
    ps0,
  ) as Params;
  const along = (h: number) =>
    ng.tree.map((p: Tensor, v: Tensor) => ng.add(p, ng.mul(h, v)), ps0, V) as Params;
  const h = 1e-5;
  const fd = (values(lossOf("hvp")(along(h)))[0]! - values(lossOf("hvp")(along(-h)))[0]!) / (2 * h);
  const dot = (a: Params) =>
    (Object.keys(a) as (keyof Params)[]).reduce(
      (s, k) => s + values(ng.sum(ng.mul(a[k], V[k])))[0]!,
      0,
    );

  it("reverse mode: the parameter gradient equals the old path's and finite differences", () => {
    const gT = ng.grad(lossOf("taylor"))(ps0) as Params;
    const gH = ng.grad(lossOf("hvp"))(ps0) as Params;
    for (const k of Object.keys(gT) as (keyof Params)[]) {
      expectClose(gT[k], gH[k], 1e-9, `∂loss/∂${k}`);
    }
    expect(Math.abs(dot(gT) - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
  });

  it("forward mode: the directional derivative equals the old path's and finite differences", () => {
    const [, tT] = ng.jvp(lossOf("taylor"), [ps0], [V]) as [Tensor, Tensor];
    const [, tH] = ng.jvp(lossOf("hvp"), [ps0], [V]) as [Tensor, Tensor];
    expectClose(tT, tH, 1e-9, "jvp of the loss");
    expect(Math.abs(values(tT)[0]! - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
  });

  it("the Taylor Laplacian differentiates again in x: its gradient matches the old path", () => {
    const u = (z: Tensor) => ng.reshape(mlp(ng.sin)(ps0)(z), [B]);
    const gx = (method: "taylor" | "hvp") =>
      ng.grad((z: Tensor) => ng.sum(ng.laplacian(u, { method })(z)))(x) as Tensor;
    expectClose(gx("taylor"), gx("hvp"), 1e-9, "∇ₓ Σ Δu");
  });
});

describe("fallback", () => {
  const B = 4;
  const x = ng.random.normal(ng.random.key(31), [B, 2], f64);
  // A custom-JVP function is a call primitive without a Taylor rule.
  const softplus = ng.customJvp(
    (z: Tensor) => ng.log1p(ng.exp(z)),
    ([z]: Tensor[], [t]: Tensor[]) => [ng.log1p(ng.exp(z!)), ng.mul(t!, ng.sigmoid(z!))],
  );
  const u = (z: Tensor) => ng.sum(ng.mul(softplus(z) as Tensor, z), 1);
  // Closed form: f = Σ_i x_i sp(x_i), ∂²/∂x_i² = 2σ(x_i) + x_i σ(x_i)(1 − σ(x_i)).
  const expected = values(
    ng.sum(
      ng.add(ng.mul(2, ng.sigmoid(x)), ng.mul(x, ng.mul(ng.sigmoid(x), ng.sub(1, ng.sigmoid(x))))),
      1,
    ),
  );

  it("auto falls back to vmap(jvp(grad)) and gives the right answer, saying why", () => {
    const lines: string[] = [];
    const prev = setOperatorLogSink((l) => lines.push(l));
    let lap: Tensor;
    try {
      lap = ng.config.withConfig({ debug: ["nested"] }, () => ng.laplacian(u)(x));
    } finally {
      setOperatorLogSink(prev);
    }
    expectClose(lap, expected, 1e-10, "fallback laplacian");
    expect(lines.some((l) => /laplacian: Taylor mode unavailable/.test(l))).toBe(true);
    expectClose(ng.hessianDiagonal(u)(x).sum(1), expected, 1e-10, "fallback hessianDiagonal");
  });

  it("method taylor names the primitive without a rule; bad options are rejected", () => {
    expect(() => ng.laplacian(u, { method: "taylor" })(x)).toThrow(
      /method "taylor" needs a Taylor rule .* has none/,
    );
    expect(() => ng.laplacian(u, { method: "fast" } as never)).toThrow(/options.method must be/);
    expect(() => ng.divergence(u, { methd: "hvp" } as never)).toThrow(/did you mean "method"/);
  });
});
