import seedrandom from "seedrandom";

/** A reproducible uniform [0,1) generator with a few cheap derived draws. */
export class RandomStream {
  private readonly rng: () => number;
  private spare = NaN;
  constructor(readonly name: string, seed: string) {
    // alea: fast, good quality, seedable by string; one independent stream per name.
    this.rng = seedrandom.alea(`${seed}/${name}`);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.rng();
  }
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.rng();
  }
  /** Standard normal (Marsaglia polar method, caches the spare value). */
  normal(): number {
    const sp = this.spare;
    if (sp === sp) { this.spare = NaN; return sp; }
    let u = 0, v = 0, s = 0;
    do {
      u = 2 * this.rng() - 1;
      v = 2 * this.rng() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }
  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.rng());
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
