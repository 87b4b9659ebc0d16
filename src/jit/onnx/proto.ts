/**
 * A small protobuf encoder for the subset of ONNX that the lowering emits:
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and
 * TypeProto, written from plain objects to the wire format. No dependency, so export
 * works in browsers too; field numbers follow onnx/onnx.proto.
 */
import type { OnnxAttr, OnnxTensorValue } from "../../primitives/onnx.js";
import { ONNX_TYPE } from "../../primitives/onnx.js";

/** The opset the lowering targets (ONNX Runtime 1.30 implements it on the CPU provider). */
export const OPSET = 18;
/** The IR version that goes with opset 18. */
export const IR_VERSION = 8;

export interface NodeDef {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attrs: Record<string, OnnxAttr>;
}

export interface ValueInfo {
  name: string;
  elemType: number;
  shape: readonly number[];
}

export interface GraphDef {
  name: string;
  nodes: readonly NodeDef[];
  initializers: readonly (OnnxTensorValue & { name: string })[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

/** Protobuf wire writer: fields appended in order, sub-messages length-prefixed. */
class Writer {
  private chunks: Uint8Array[] = [];
  private buf: number[] = [];
  length = 0;

  private flush(): void {
    if (this.buf.length) {
      this.chunks.push(Uint8Array.from(this.buf));
      this.buf = [];
    }
  }
  byte(b: number): void {
    this.buf.push(b);
    this.length++;
  }
  bytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(b);
    this.length += b.length;
  }
  /** Base-128 varint; negative int64 values are written as 10-byte two's complement. */
  varint(v: number): void {
    if (v >= 0 && v < 2 ** 31) {
      while (v > 127) {
        this.byte((v & 127) | 128);
        v >>>= 7;
      }
      this.byte(v);
      return;
    }
    let u = BigInt.asUintN(64, BigInt(v));
    while (u > 127n) {
      this.byte(Number(u & 127n) | 128);
      u >>= 7n;
    }
    this.byte(Number(u));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }
  string(field: number, s: string): void {
    this.lenDelimited(field, new TextEncoder().encode(s));
  }
  lenDelimited(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.bytes(b);
  }
  message(field: number, write: (w: Writer) => void): void {
    const w = new Writer();
    write(w);
    this.lenDelimited(field, w.finish());
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.bytes(b);
  }
  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const ELEM_TYPE: Record<OnnxTensorValue["dtype"], number> = ONNX_TYPE;

/** Little-endian raw bytes of a tensor's values in its element type. */
function rawData(t: OnnxTensorValue): Uint8Array {
  const n = t.values.length;
  switch (t.dtype) {
    case "float32":
      return new Uint8Array(Float32Array.from(t.values).buffer);
    case "float64":
      return new Uint8Array(Float64Array.from(t.values).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(t.values).buffer);
    case "int64": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(t.values[i]!);
      return new Uint8Array(a.buffer);
    }
    case "bool":
      return Uint8Array.from(t.values, (v) => (v ? 1 : 0));
  }
}

function writeTensor(w: Writer, t: OnnxTensorValue, name?: string): void {
  for (const d of t.shape) w.int(1, d);
  w.int(2, ELEM_TYPE[t.dtype]);
  if (name !== undefined) w.string(8, name);
  w.lenDelimited(9, rawData(t));
}

function isIntList(v: OnnxAttr): v is readonly number[] {
  return Array.isArray(v);
}

function writeAttr(w: Writer, name: string, v: OnnxAttr): void {
  w.string(1, name);
  if (typeof v === "number") {
    w.int(3, v);
    w.int(20, 2); // INT
  } else if (typeof v === "string") {
    w.lenDelimited(4, new TextEncoder().encode(v));
    w.int(20, 3); // STRING
  } else if (isIntList(v)) {
    for (const x of v) w.int(8, x);
    w.int(20, 7); // INTS
  } else if ("float" in v) {
    w.float(2, v.float);
    w.int(20, 1); // FLOAT
  } else {
    w.message(5, (m) => writeTensor(m, v.tensor));
    w.int(20, 4); // TENSOR
  }
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

/** Encodes a ModelProto holding `graph` (default domain, opset OPSET). */
export function encodeModel(graph: GraphDef, producer = "nestgrad"): Uint8Array {
  const w = new Writer();
  w.int(1, IR_VERSION);
  w.string(2, producer);
  w.message(7, (g) => {
    for (const n of graph.nodes) {
      g.message(1, (m) => {
        for (const i of n.inputs) m.string(1, i);
        for (const o of n.outputs) m.string(2, o);
        m.string(3, n.name);
        m.string(4, n.opType);
        for (const [k, v] of Object.entries(n.attrs)) m.message(5, (a) => writeAttr(a, k, v));
      });
    }
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (m) => writeTensor(m, t, t.name));
    for (const v of graph.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of graph.outputs) g.message(12, (m) => writeValueInfo(m, v));
  });
  w.message(8, (o) => {
    o.string(1, "");
    o.int(2, OPSET);
  });
  return w.finish();
}
