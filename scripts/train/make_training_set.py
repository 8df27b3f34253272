"""Synthesise keyword training examples with espeak-ng, and hold the dataset helpers.

Every phrase of every command is rendered in many espeak-ng voices and variants
(accents x male/female variants, random rate and pitch), trimmed like an
endpointed segment and written as 16 kHz WAV with a manifest. Negative examples
are rendered too: other words, running speech (sentences from the seed texts and
coach-style cues) and synthetic noise. Augmentation (noise mixing with the
development noise clips, gain, time shift, speed) is applied later, when features
are computed, by ``augment`` below.

Usage: make_training_set.py [--out /tmp/kw/synth] [--voices N] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import subprocess
import sys
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[2]
DEV_DIR = ROOT.parent / "shared" / "speech" / "commands-dev"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"
FSDD_DIR = ROOT.parent / "shared" / "speech" / "fsdd"
FSDD_HELD_OUT = ("george", "theo")   # declared before any measurement: reported, never trained on
RATE_HZ = 16_000

# label -> phrases. Labels are the classifier's classes; numbers carry their value.
COMMAND_PHRASES: dict[str, list[str]] = {
    "stop": ["stop", "stop the session", "enough"],
    "pain": ["pain", "it hurts", "that hurts", "ouch", "sharp pain"],
    "next": ["next", "next one", "skip"],
    "back": ["back", "go back", "previous"],
    "repeat": ["repeat", "again", "say that again"],
    "pause": ["pause", "wait", "hold on"],
    "resume": ["go", "resume", "continue", "carry on"],
    "yes": ["yes", "yeah", "yep"],
    "no": ["no", "nope"],
    "not_sure": ["not sure", "I don't know", "maybe"],
    "slower": ["slower", "slow down"],
    "faster": ["faster", "speed up"],
    "time_left": ["how long", "time left"],
    "help": ["help"],
    "zero": ["zero"], "one": ["one"], "two": ["two"], "three": ["three"],
    "four": ["four"], "five": ["five"], "six": ["six"], "seven": ["seven"],
    "eight": ["eight"], "nine": ["nine"], "ten": ["ten"],
}
# Dev-set folder name -> label for the words the coach acts on.
DEV_LABELS = {"stop": "stop", "go": "resume", "yes": "yes", "no": "no",
              "zero": "zero", "one": "one", "two": "two", "three": "three", "four": "four",
              "five": "five", "six": "six", "seven": "seven", "eight": "eight", "nine": "nine",
              "_noise_": "noise"}
# Single words that are not commands (no homophones of command words).
OTHER_WORDS = [
    "hello", "water", "table", "morning", "coffee", "window", "music", "garden", "please",
    "thank you", "okay", "good", "great", "chair", "phone", "dinner", "kitchen", "blue",
    "green", "paper", "doctor", "breathe", "relax", "knee", "hip", "stretch", "floor",
    "top", "shop", "step", "stuck", "spot", "stone", "guess", "less", "yet", "mess", "net",
    "text", "neck", "bag", "black", "peat", "sneak", "pose", "cause", "rest", "zoo",
    "hero", "fine", "wine", "nice", "sick", "seventy", "eighty", "tan", "then", "when",
    "nose", "snow", "old", "gold", "low", "slow", "fast", "long", "lift", "leg", "arm",
    "sorry", "what", "really", "alright", "hmm", "oh", "ah", "um", "wow", "cool",
    "television", "dog", "cat", "baby", "car", "door", "radio", "weather", "tomorrow",
]
CUE_SENTENCES = [
    "Lie on your back with your knees bent and your feet flat on the floor.",
    "Breathe in slowly through your nose.",
    "Breathe out and let your lower back relax.",
    "Gently bring one knee towards your chest.",
    "Hold it there and keep breathing.",
    "Now slowly lower it and switch sides.",
    "Well done, take a short rest.",
    "Tighten your stomach muscles and press your back into the floor.",
    "Let your knees fall gently to one side.",
    "We will do this five times on each side.",
    "Next we will stretch the muscles at the back of your hips.",
    "If anything hurts, say stop or it hurts at any time.",
    "How did that feel? Was it comfortable?",
    "On a scale from zero to ten, how strong is the pain?",
    "Keep your shoulders relaxed on the floor.",
    "Roll onto your side and push yourself up slowly.",
    "That is the end of today's session. Nice work.",
    "Move only as far as feels comfortable.",
]
NOISE_KINDS = ["white", "pink", "brown", "hum", "tone", "clicks", "breath"]


def synth_voices() -> list[str]:
    bases = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
             "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
    variants = [""] + [f"+m{i}" for i in range(1, 8)] + [f"+f{i}" for i in range(1, 6)]
    return [b + v for b in bases for v in variants]


def stable_hash(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


def is_held_out(speaker: str, path: str = "") -> bool:
    """About a quarter of the development speakers (and noise clips) are kept for
    reporting only; noise clips are split by file since they have no speaker."""
    key = path if speaker == "noise" else speaker
    return stable_hash("coach-heldout:" + key) % 4 == 0


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        if w.getnchannels() > 1:
            raw = raw.reshape(-1, w.getnchannels())[:, 0]
        rate = w.getframerate()
    x = raw.astype(np.int16)
    if rate != RATE_HZ:
        g = np.gcd(rate, RATE_HZ)
        x = np.clip(resample_poly(x.astype(np.float32), RATE_HZ // g, rate // g), -32768, 32767).astype(np.int16)
    return x


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def fsdd_manifest() -> list[dict]:
    """The FSDD digit recordings as development-style rows (8 kHz, resampled on reading)."""
    with open(FSDD_DIR / "manifest.csv", newline="") as f:
        return [{"path": str(FSDD_DIR / r["path"]), "word": r["label"], "label": r["label"],
                 "speaker": "fsdd:" + r["speaker"], "held_out": r["speaker"] in FSDD_HELD_OUT}
                for r in csv.DictReader(f)]


def dev_manifest() -> list[dict]:
    """Rows of the development set: path, folder word, label (command label or other), speaker."""
    rows = []
    with open(DEV_DIR / "manifest.csv", newline="") as f:
        for r in csv.DictReader(f):
            word = r["label"]
            rows.append({"path": str(DEV_DIR / r["path"]), "word": word,
                         "label": DEV_LABELS.get(word, "other"), "speaker": r["speaker"],
                         "held_out": is_held_out(r["speaker"], r["path"])})
    return rows


def trim(samples: np.ndarray, rng: random.Random) -> np.ndarray:
    """Cut leading/trailing silence as an endpointer would, keeping a random margin."""
    x = samples.astype(np.float32)
    frame = 160
    n = len(x) // frame
    if n == 0:
        return samples
    energy = np.sqrt((x[:n * frame].reshape(n, frame) ** 2).mean(axis=1))
    on = np.nonzero(energy > max(energy.max() * 0.03, 30.0))[0]
    if len(on) == 0:
        return samples
    lead, tail = rng.randint(2, 12), rng.randint(5, 25)   # 20-120 ms / 50-250 ms
    a = max(0, (on[0] - lead) * frame)
    b = min(len(x), (on[-1] + 1 + tail) * frame)
    return samples[a:b]


def augment(samples: np.ndarray, noises: list[np.ndarray], rng: random.Random) -> np.ndarray:
    """Speed, gain, time shift and background noise, drawn from ``rng``."""
    x = samples.astype(np.float32)
    speed = rng.uniform(0.88, 1.12)
    if abs(speed - 1.0) > 0.01:
        up = 100
        x = resample_poly(x, up, int(round(up * speed)))
    peak = float(np.abs(x).max()) or 1.0
    x *= (10 ** (rng.uniform(-30.0, -1.0) / 20.0)) * 32767.0 / peak
    shift = rng.randint(0, int(0.25 * RATE_HZ))
    x = np.concatenate([np.zeros(shift, np.float32), x]) if rng.random() < 0.5 else \
        np.concatenate([x, np.zeros(shift, np.float32)])
    if noises and rng.random() < 0.8:
        noise = rng.choice(noises).astype(np.float32)
        reps = int(np.ceil(len(x) / len(noise)))
        start = rng.randint(0, len(noise) - 1)
        noise = np.tile(noise, reps + 1)[start:start + len(x)]
        sig_rms = float(np.sqrt((x ** 2).mean())) or 1.0
        noise_rms = float(np.sqrt((noise ** 2).mean())) or 1.0
        snr_db = rng.uniform(3.0, 30.0)
        x = x + noise * (sig_rms / noise_rms) / (10 ** (snr_db / 20.0))
    return np.clip(x, -32768, 32767).astype(np.int16)


def synth_noise(kind: str, rng: random.Random) -> np.ndarray:
    n = int(rng.uniform(0.4, 1.5) * RATE_HZ)
    g = np.random.default_rng(rng.randint(0, 2**31))
    t = np.arange(n) / RATE_HZ
    if kind == "white":
        x = g.standard_normal(n)
    elif kind == "pink":
        x = np.cumsum(g.standard_normal(n)); x -= np.convolve(x, np.ones(200) / 200, "same")
    elif kind == "brown":
        x = np.cumsum(g.standard_normal(n)); x -= x.mean()
    elif kind == "hum":
        f = rng.choice([50.0, 60.0])
        x = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 6))
    elif kind == "tone":
        f = rng.uniform(200, 2000)
        x = np.sin(2 * np.pi * f * t) * (1 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 6) * t))
    elif kind == "clicks":
        x = np.zeros(n); x[g.integers(0, n, rng.randint(2, 12))] = 1.0
        x = np.convolve(x, np.exp(-np.arange(200) / 30.0), "same")
    else:  # breath: band-limited noise with a slow envelope
        x = np.convolve(g.standard_normal(n), np.hanning(30), "same")
        x *= np.sin(np.pi * t / t[-1]) ** 2
    x = x / (np.abs(x).max() or 1.0) * 32767 * 10 ** (rng.uniform(-35, -3) / 20)
    return x.astype(np.int16)


def render(text: str, voice: str, rate_wpm: int, pitch: int) -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-p", str(pitch),
                        "-w", tmp.name, text], check=True, capture_output=True)
        return read_wav(Path(tmp.name))


def seed_sentences(rng: random.Random, count: int) -> list[str]:
    text = " ".join(p.read_text(errors="ignore") for p in sorted(SEEDS_DIR.glob("*.txt")))
    words = re.findall(r"[A-Za-z']+", text)
    out = []
    for _ in range(count):
        n = rng.randint(3, 9)
        i = rng.randint(0, len(words) - n)
        out.append(" ".join(words[i:i + n]))
    return out


def jobs(rng: random.Random, voices: list[str]) -> list[tuple[str, str, str]]:
    """(label, text, voice) for every render."""
    out = []
    for label, phrases in COMMAND_PHRASES.items():
        for text in phrases:
            out += [(label, text, v) for v in voices]
    for text in OTHER_WORDS:
        out += [("other", text, v) for v in rng.sample(voices, 12)]
    for text in CUE_SENTENCES + seed_sentences(rng, 120):
        out += [("other", text, v) for v in rng.sample(voices, 6)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/kw/synth"))
    ap.add_argument("--voices", type=int, default=0, help="use only N voices (0 = all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="parallel espeak-ng processes")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    voices = synth_voices()
    if args.voices:
        voices = rng.sample(voices, args.voices)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, work = [], []
    for i, (label, text, voice) in enumerate(jobs(rng, voices)):
        rate, pitch, trim_seed = rng.randint(110, 200), rng.randint(20, 80), rng.random()
        path = args.out / f"{label}_{i:05d}.wav"
        if not path.exists():
            work.append((path, text, voice, rate, pitch, trim_seed))
        rows.append({"path": str(path), "label": label, "text": text,
                     "speaker": f"synth:{voice}", "held_out": False})

    def one(job: tuple) -> None:
        path, text, voice, rate, pitch, trim_seed = job
        write_wav(path, trim(render(text, voice, rate, pitch), random.Random(trim_seed)))

    sys.path.insert(0, str(ROOT))
    from coach.cli.progress import track

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(track(pool.map(one, work), "Rendering clips", len(work)))
    for i in range(300):
        kind = NOISE_KINDS[i % len(NOISE_KINDS)]
        path = args.out / f"noise_{i:05d}.wav"
        if not path.exists():
            write_wav(path, synth_noise(kind, rng))
        rows.append({"path": str(path), "label": "noise", "text": kind,
                     "speaker": "synth:noise", "held_out": False})
    with open(args.out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "label", "text", "speaker", "held_out"])
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} clips in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
