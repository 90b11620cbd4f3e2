import seedrandom from "seedrandom";

/** 2^-32. */
const TWO_M32 = 2.3283064365386963e-10;

/**
 * A reproducible uniform [0,1) generator with a few cheap derived draws.
 *
 * The generator is Baagøe's Alea as seedrandom implements it
 * (seedrandom.alea(`${seed}/${name}`)), seeded by seedrandom itself and then
 * stepped here on the stream's own fields, so that a draw is a monomorphic
 * method call instead of a call through a per-stream closure. The sequence is
 * the same number for number (same operations on the same doubles).
 */
export class RandomStream {
  /** Alea state (seedrandom lib/alea.js): s0, s1, s2, c; then the normal draw's spare value. */
  private readonly st = new Float64Array(5);
  constructor(readonly name: string, seed: string) {
    // alea: fast, good quality, seedable by string; one independent stream per name.
    const st = (seedrandom.alea(`${seed}/${name}`, { state: true }) as unknown as { state(): { c: number; s0: number; s1: number; s2: number } }).state();
    const s = this.st;
    s[0] = st.s0;
    s[1] = st.s1;
    s[2] = st.s2;
    s[3] = st.c;
    s[4] = NaN;
  }
  /** Uniform in [0, 1). */
  next(): number {
    const s = this.st;
    const t = 2091639 * s[0] + s[3] * TWO_M32;
    const c = t | 0;
    s[0] = s[1];
    s[1] = s[2];
    s[3] = c;
    return (s[2] = t - c);
  }
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  /** Standard normal (Marsaglia polar method, caches the spare value). */
  normal(): number {
    const st = this.st;
    const sp = st[4];
    if (sp === sp) { st[4] = NaN; return sp; }
    let u = 0, v = 0, s = 0;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    st[4] = v * m;
    return u * m;
  }
  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

/**
 * Named random streams derived from one run seed. Each component asks for its
 * own stream by a stable name, so adding a component does not perturb the
 * draws of the others.
 */
export class RandomStreams {
  private readonly streams = new Map<string, RandomStream>();
  constructor(readonly seed: string) {}
  get(name: string): RandomStream {
    let s = this.streams.get(name);
    if (!s) {
      s = new RandomStream(name, this.seed);
      this.streams.set(name, s);
    }
    return s;
  }
}
