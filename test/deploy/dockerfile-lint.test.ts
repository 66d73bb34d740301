/**
 * Lints the Dockerfile: a multi-stage build whose runtime stage is a Node 24 slim
 * image running `node dist/server.js` as a non-root user, holding nothing but
 * dist/, production node_modules and the package manifests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Copy, type From, type Healthcheck, type Instruction, type PropertyInstruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../../src/config.js';
import { repoRoot } from './manifests.js';

const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(text);
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

interface Stage {
  from: From;
  name: string | null;
  instructions: Instruction[];
}

/** Instructions grouped by build stage, in order. */
const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction.getKeyword() === 'FROM') {
    const from = instruction as From;
    stages.push({ from, name: from.getBuildStage(), instructions: [] });
  } else {
    stages.at(-1)?.instructions.push(instruction);
  }
}
const stageNames = stages.map((s) => s.name).filter((n): n is string => n !== null);
const runtime = stages.at(-1) as Stage;
const inStage = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
const properties = (instruction: Instruction) =>
  (instruction as PropertyInstruction)
    .getProperties()
    .map((p) => [p.getName(), (p.getUnescapedValue() ?? '').replace(/^"(.*)"$/s, '$1')] as const);
const allRuns = stages.flatMap((s) => inStage(s, 'RUN'));
const runText = (run: Instruction) => run.getArgumentsContent() ?? '';

/** The JSON array of an exec-form instruction, or null for shell form. */
function execForm(args: string | null): string[] | null {
  if (args === null || !args.trimStart().startsWith('[')) return null;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? (parsed as string[]) : null;
  } catch {
    return null;
  }
}

function copySources(copy: Copy): string[] {
  const args = copy.getArguments().map((a) => a.getValue());
  return args.slice(0, -1);
}

describe('Dockerfile', () => {
  it('parses and has no instruction outside a stage', () => {
    expect(stages.length).toBeGreaterThan(0);
    expect(dockerfile.getInstructions()[0]?.getKeyword()).toMatch(/^(FROM|ARG)$/);
  });

  it('is a multi-stage build with named stages', () => {
    expect(dockerfile.getFROMs().length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.name, `stage at line ${stage.from.getRange().start.line + 1}`).toBeTruthy();
    expect(new Set(stageNames).size).toBe(stageNames.length);
  });

  it('builds every stage from node:24 slim, pinned by major tag, never latest', () => {
    for (const { from } of stages) {
      const image = from.getImage() ?? '';
      if (stageNames.includes(image)) continue; // FROM an earlier stage
      expect(from.getImageName(), image).toBe('node');
      const tag = from.getImageTag();
      expect(tag, `${image} must carry a tag`).not.toBeNull();
      expect(tag).not.toBe('latest');
      expect(tag, `${image}: Node 24 (the LTS), slim variant`).toMatch(/^24(\.\d+){0,2}-(\w+-)?slim$/);
      expect(image).not.toMatch(/\$/); // no build-arg-chosen base image
    }
    expect(runtime.from.getImage()).toBe('node:24-bookworm-slim');
  });

  it('runs the final stage as a non-root, numeric user', () => {
    const users = inStage(runtime, 'USER');
    expect(users.length, 'the runtime stage needs a USER').toBeGreaterThan(0);
    const user = (users.at(-1) as Instruction).getArgumentsContent() ?? '';
    const [uid, gid] = user.split(':');
    expect(uid).toMatch(/^\d+$/); // numeric, so runAsNonRoot can verify it
    expect(['0', 'root']).not.toContain(uid);
    if (gid !== undefined) expect(['0', 'root']).not.toContain(gid);
  });

  it('exposes the default PORT of the app (8080)', () => {
    const defaultPort = environmentSchema.shape.PORT.parse(undefined);
    expect(defaultPort).toBe(8080);
    const exposed = inStage(runtime, 'EXPOSE').flatMap((e) => e.getArguments().map((a) => a.getValue()));
    expect(exposed.map((p) => p.replace(/\/tcp$/, ''))).toEqual([String(defaultPort)]);
  });

  it('has a HEALTHCHECK that probes /healthz with node (no curl/wget in slim)', () => {
    const checks = dockerfile.getHEALTHCHECKs() as Healthcheck[];
    expect(checks).toHaveLength(1);
    const check = checks[0] as Healthcheck;
    expect(stages.indexOf(runtime)).toBe(stages.findIndex((s) => s.instructions.includes(check)));
    expect(check.getSubcommand()?.getValue().toUpperCase()).toBe('CMD');
    const content = check.getArgumentsContent() ?? '';
    const argv = execForm(content.replace(/^\s*CMD\s+/i, ''));
    expect(argv, 'HEALTHCHECK CMD in exec form').not.toBeNull();
    expect(argv?.[0]).toBe('node');
    const script = argv?.join(' ') ?? '';
    expect(script).toContain('/healthz');
    expect(script).toContain('process.env.PORT');
    expect(script).toMatch(/process\.exit\(1\)/);
    const flags = Object.fromEntries(check.getFlags().map((f) => [f.getName(), f.getValue()]));
    expect(flags).toHaveProperty('interval');
    expect(flags).toHaveProperty('timeout');
  });

  it('starts node directly on dist/server.js, in exec form (node is PID 1 and gets SIGTERM)', () => {
    expect(dockerfile.getENTRYPOINTs()).toEqual([]);
    const cmds = inStage(runtime, 'CMD');
    expect(cmds).toHaveLength(1);
    expect(execForm((cmds[0] as Instruction).getArgumentsContent())).toEqual(['node', 'dist/server.js']);
    const stopSignals = inStage(runtime, 'STOPSIGNAL').map((s) => s.getArgumentsContent());
    for (const signal of stopSignals) expect(signal).toBe('SIGTERM');
  });

  it('copies only dist/, production node_modules/, package.json and package-lock.json into the runtime stage', () => {
    const copies = inStage(runtime, 'COPY') as Copy[];
    const copied = new Map<string, string | null>(); // basename -> source stage (null: build context)
    for (const copy of copies) {
      const from = copy.getFromFlag()?.getValue() ?? null;
      if (from !== null) expect(stageNames.slice(0, -1), `COPY --from=${from}`).toContain(from);
      for (const source of copySources(copy)) {
        expect(source, 'no globs or whole-context copies').not.toMatch(/[*?]|^\.\/?$/);
        copied.set(source.replace(/\/+$/, '').split('/').at(-1) as string, from);
      }
    }
    expect([...copied.keys()].sort()).toEqual(['dist', 'node_modules', 'package-lock.json', 'package.json']);
    expect(copied.get('dist'), 'dist/ comes from a build stage').not.toBeNull();
    expect(copied.get('node_modules'), 'node_modules/ comes from a build stage').not.toBeNull();
    expect(inStage(runtime, 'ADD')).toEqual([]);
  });

  it('takes node_modules from a stage that installed production dependencies only', () => {
    const copy = (inStage(runtime, 'COPY') as Copy[]).find((c) => copySources(c).some((s) => s.endsWith('node_modules')));
    const source = stages.find((s) => s.name === copy?.getFromFlag()?.getValue());
    expect(source).toBeDefined();
    const runs = inStage(source as Stage, 'RUN').map(runText);
    expect(
      runs.some((r) => /\bnpm (ci|prune)\b[^&;|]*--omit[= ]dev\b/.test(r)),
      runs.join('\n'),
    ).toBe(true);
  });

  it('takes dist/ from a stage that ran the build script', () => {
    const copy = (inStage(runtime, 'COPY') as Copy[]).find((c) => copySources(c).some((s) => s.endsWith('dist')));
    const source = stages.find((s) => s.name === copy?.getFromFlag()?.getValue());
    expect(
      inStage(source as Stage, 'RUN')
        .map(runText)
        .some((r) => /\bnpm run build\b/.test(r)),
    ).toBe(true);
  });

  it('installs with npm ci from the lockfile, never npm install', () => {
    for (const run of allRuns) {
      expect(runText(run)).not.toMatch(/\bnpm (install|i|add)\b/);
      expect(runText(run)).not.toMatch(/\b(yarn|pnpm)\b/);
    }
    expect(allRuns.some((r) => /\bnpm ci\b/.test(runText(r)))).toBe(true);
  });

  it('uses no ADD of remote URLs or archives (COPY is explicit)', () => {
    for (const add of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'ADD')) {
      expect(add.getArgumentsContent()).not.toMatch(/https?:\/\/|git@/);
    }
  });

  it('keeps apt-get lean if it is ever used', () => {
    for (const run of allRuns.map(runText).filter((r) => /\bapt-get\b/.test(r))) {
      if (/\bapt-get\b[^&;|]*\binstall\b/.test(run)) {
        expect(run).toMatch(/--no-install-recommends/);
        expect(run).toMatch(/\s-y\b|--yes|--assume-yes/);
        expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
      }
      expect(run).not.toMatch(/\bapt-get\b[^&;|]*\b(upgrade|dist-upgrade)\b/);
    }
  });

  it('does not fetch scripts with curl|sh, use sudo, or chmod 777', () => {
    for (const run of allRuns.map(runText)) {
      expect(run).not.toMatch(/\b(curl|wget)\b[^;&]*\|\s*(ba)?sh\b/);
      expect(run).not.toMatch(/\bsudo\b/);
      expect(run).not.toMatch(/chmod\s+(-R\s+)?0?777/);
    }
  });

  it('sets NODE_ENV=production in the runtime stage', () => {
    const env = Object.fromEntries(inStage(runtime, 'ENV').flatMap(properties));
    expect(env.NODE_ENV).toBe('production');
  });

  it('bakes no secrets into ENV or ARG', () => {
    for (const instruction of dockerfile.getInstructions().filter((i) => ['ENV', 'ARG'].includes(i.getKeyword()))) {
      for (const [name] of properties(instruction)) {
        expect(name).not.toMatch(/TOKEN|PASSWORD|SECRET|API_KEY|CREDENTIAL/i);
      }
    }
  });

  it('prepares the snapshot directory for a read-only root filesystem', () => {
    // The app writes only CACHE_SNAPSHOT_FILE, under /var/lib/signet (k8s/configmap.yaml); it must be
    // owned by the node user so that a fresh Docker volume mounted there is writable.
    const runs = inStage(runtime, 'RUN').map(runText);
    expect(runs.some((r) => /mkdir\b.*\/var\/lib\/signet/.test(r) && /chown\b.*(node|1000).*\/var\/lib\/signet/.test(r))).toBe(true);
    expect(inStage(runtime, 'VOLUME').flatMap((v) => v.getArguments().map((a) => a.getValue()))).not.toContain('/app');
  });

  it('carries OCI labels, with the version of package.json', () => {
    const labels = new Map(inStage(runtime, 'LABEL').flatMap(properties));
    for (const key of ['title', 'description', 'version', 'revision', 'licenses']) {
      expect(labels.get(`org.opencontainers.image.${key}`), key).toBeTruthy();
    }
    const version = labels.get('org.opencontainers.image.version') ?? '';
    const argDefault = Object.fromEntries(inStage(runtime, 'ARG').flatMap(properties));
    const resolved = version.replace(/^\$\{?(\w+)\}?$/, (_, name: string) => argDefault[name] ?? '');
    expect(resolved).toBe(packageJson.version);
  });

  it('uses absolute WORKDIRs', () => {
    for (const workdir of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'WORKDIR')) {
      expect(workdir.getArgumentsContent()).toMatch(/^\//);
    }
  });
});
