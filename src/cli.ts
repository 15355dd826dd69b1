/**
 * Argument parsing only: every verb hands its options to one function in commands/.
 * This is also the one place where error codes become exit codes.
 */
import { Command, CommanderError, Option } from 'commander';
import { AirlockError, isAirlockError } from './base/errors.js';
import { exitCodeFor } from './exit-codes.js';
import { pathFault } from './fs/file-fault.js';
import { consoleOutput, type Output } from './ui/output.js';
import { VERSION } from './base/version.js';
import type { MediaVerifyOptions, MediaWriteOptions } from './commands/media.js';
import type { BuildOptions } from './commands/build.js';
import type { SignOptions } from './commands/sign.js';
import type { VerifyOptions } from './commands/verify.js';
import type { InspectOptions } from './commands/inspect.js';
import type { InstallOptions } from './commands/install.js';
import type { SiteOptions, StatusOptions } from './commands/status.js';
import type { RollbackOptions } from './commands/rollback.js';
import type { ServeOptions } from './commands/serve.js';
import type { KeysGenerateOptions, KeysListOptions, KeysIdOptions } from './commands/keys.js';
import type { KeysCaCertOptions, KeysCertRequestOptions, KeysIssueOptions } from './commands/keys-ca.js';
import type { KeysSignUpdateOptions, KeysUpdateOptions } from './commands/keys-update.js';

interface GlobalOptions {
  verbose?: boolean;
}

function outputFor(command: Command): Output {
  const options = command.optsWithGlobals<GlobalOptions & { json?: boolean }>();
  return consoleOutput({ json: options.json, verbose: options.verbose });
}

/**
 * Wraps a verb so that its options and the Output reach it. A verb that returns has succeeded;
 * every failure is an error, turned into its exit code by main().
 */
function action<A extends unknown[]>(run: (output: Output, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    await run(outputFor(command), ...(args.slice(0, -1) as A));
  };
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

function buildProgram(): Command {
  const program = new Command('airlock')
    .description('Air-gapped release bundler: build, sign, verify and install release bundles.')
    .version(VERSION)
    .option('-v, --verbose', 'print detail on errors and progress')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const json = () => new Option('--json', 'print one JSON document instead of text');

  program
    .command('build')
    .description('turn a release manifest into a signed, checksummed, reproducible bundle')
    .argument('<manifest>', 'release manifest (YAML)')
    .requiredOption('-k, --key <private.pem...>', 'signing key(s): encrypted PKCS#8 PEM')
    .option('-o, --out <dir>', 'output directory', '.')
    .option('--cert <cert.pem...>', 'certificate (chain) for each --key, in the same order, shipped instead of the bare public key')
    .option('--passphrase-file <file>', 'read the key passphrase from this file (else AIRLOCK_PASSPHRASE, else a prompt)')
    .option('--cache <dir>', 'image cache directory (OCI layout)', '.airlock-cache')
    .option('--platform <os/arch...>', 'keep only these platforms of multi-platform images')
    .option('--registry-login <host...>', 'log in to these registries with AIRLOCK_REGISTRY_USER / AIRLOCK_REGISTRY_PASSWORD (else ~/.docker/config.json)')
    .option('--since <receipt|bundle|media...>', "build a delta: leave out the image layers every given site receipt (or earlier bundle, or its media directory) holds (docs/DELTA.md)")
    .addOption(json())
    .addHelpText(
      'after',
      examples([
        'airlock build manifests/shop.yaml --key keys/build.key.pem --out dist/',
        'airlock build manifests/shop-1.1.0.yaml -k build.key.pem -o dist/ --since receipts/plant-a.json   # a delta against what plant-a holds',
        'airlock build manifests/shop-1.1.0.yaml -k build.key.pem -o dist/ --since plant-a.json --since plant-b.json   # only what both hold',
        'SOURCE_DATE_EPOCH=1700000000 airlock build manifests/shop.yaml -k build.key.pem -o out/ --json',
      ]),
    )
    .action(action(async (output, manifest: string, options: BuildOptions) => {
      const { buildCommand } = await import('./commands/build.js');
      return buildCommand(output, manifest, options);
    }));

  program
    .command('verify')
    .description('check signatures, policy, checksums, structure and expiry of a bundle without extracting it')
    .argument('<bundle>', 'bundle file (.airlock)')
    .requiredOption('-t, --trust <dir>', 'trust store directory (see keys/README.md)')
    .option('--at <time>', 'judge expiry at this ISO time instead of now')
    .addOption(json())
    .addHelpText(
      'after',
      examples(['airlock verify shop-1.4.0.airlock --trust keys/', 'airlock verify shop-1.4.0.airlock -t /etc/airlock/trust --json']),
    )
    .action(action(async (output, bundle: string, options: VerifyOptions) => {
      const { verifyCommand } = await import('./commands/verify.js');
      return verifyCommand(output, bundle, options);
    }));

  program
    .command('sign')
    .description('countersign a built bundle: adds a signature, SHA256SUMS and payload stay byte-identical')
    .argument('<bundle>', 'bundle file (.airlock), rewritten in place')
    .requiredOption('-k, --key <private.pem>', 'signing key: encrypted PKCS#8 PEM')
    .option('--cert <cert.pem>', 'certificate (chain) for the key, shipped instead of the bare public key')
    .option('--passphrase-file <file>', 'read the key passphrase from this file (else AIRLOCK_PASSPHRASE, else a prompt)')
    .addOption(json())
    .addHelpText(
      'after',
      examples(['airlock sign shop-1.4.0.airlock --key officer.key.pem', 'airlock sign shop-1.4.0.airlock -k officer.key.pem --cert officer.cert.pem']),
    )
    .action(action(async (output, bundle: string, options: SignOptions) => {
      const { signCommand } = await import('./commands/sign.js');
      return signCommand(output, bundle, options);
    }));

  program
    .command('inspect')
    .description('show what a bundle holds: release, targets, signers, contents by kind')
    .argument('<bundle>', 'bundle file (.airlock)')
    .option('--report <file>', "write the security officer's report (self-contained HTML, Markdown or JSON) to this file")
    .option('--format <format>', 'report format: html, md or json (default: from the file extension, else html)')
    .option('-t, --trust <dir>', 'with --report: verify against this trust store and lead the report with the verdict (with --sbom: verify first)')
    .option('--sbom <format>', "print the release's SBOM instead: cyclonedx (CycloneDX 1.6 JSON)")
    .addOption(json())
    .addHelpText(
      'after',
      examples([
        'airlock inspect shop-1.4.0.airlock',
        'airlock inspect shop-1.4.0.airlock --json | jq .images',
        'airlock inspect shop-1.4.0.airlock --report shop-1.4.0.html --trust /etc/airlock/trust',
        'airlock inspect shop-1.4.0.airlock --report shop-1.4.0.md --format md',
        'airlock inspect shop-1.4.0.airlock --sbom cyclonedx --trust /etc/airlock/trust > shop-1.4.0.cdx.json',
      ]),
    )
    .action(action(async (output, bundle: string, options: InspectOptions) => {
      const { inspectCommand } = await import('./commands/inspect.js');
      return inspectCommand(output, bundle, options);
    }));

  program
    .command('install')
    .description('verify a bundle, show what it changes on this site, then apply it with a journal and record it')
    .argument('<bundle>', 'bundle file (.airlock)')
    .requiredOption('-s, --site <site.yaml>', 'site file: site id, environment, variables, targets, state and trust directories')
    .option('-y, --yes', 'apply without asking (unattended); missing variables are then an error')
    .option('--plan-only', 'print the plan and exit without changing anything')
    .option('--allow-downgrade', 'install a release older than the highest version ever installed on this site (recorded in the audit log)')
    .option('--reinstall', 'install the installed version again (recorded in the audit log)')
    .option('--allow-expired', "install a bundle past its signed expiry (warns; recorded in the audit log and the receipt)")
    .option('--registry <host:port>', "push images to this registry instead of the site file's image target")
    .option('--insecure-registry', 'talk plain HTTP to the --registry (only on a trusted network segment)')
    .option('--verify-base', "for a delta bundle: re-hash every blob it leaves out where the site holds it, not only look it up")
    .option('--diff <all|none|n>', 'config diffs the plan shows: all, none, or the first n (default 10; changed files before new ones); --json has them all')
    .addOption(json())
    .addHelpText(
      'after',
      examples([
        'airlock install shop-1.1.0.airlock --site /etc/airlock/site.yaml --plan-only',
        'airlock install web-2.0.0.airlock --site /etc/airlock/site.yaml --plan-only --diff all | less   # every file, every diff',
        'airlock install shop-1.1.0.airlock --site /etc/airlock/site.yaml',
        'airlock install shop-1.1.0.airlock -s site.yaml --yes --json > receipt-summary.json',
        'airlock install shop-1.1.0.airlock -s site.yaml --allow-expired   # past its signed expiry: warns, and is recorded',
      ]),
    )
    .action(action(async (output, bundle: string, options: InstallOptions) => {
      const { installCommand } = await import('./commands/install.js');
      return installCommand(output, bundle, options);
    }));

  program
    .command('status')
    .description("show the site's installed release: version, when, by whom, bundle digest, signers, health")
    .requiredOption('-s, --site <site.yaml>', 'site file')
    .option('--receipt <file>', "also write a receipt of what the site's image target holds, for airlock build --since (docs/DELTA.md)")
    .addOption(json())
    .addHelpText(
      'after',
      examples(['airlock status --site /etc/airlock/site.yaml', 'airlock status -s site.yaml --json', 'airlock status -s site.yaml --receipt /media/usb1/plant-a-receipt.json   # carry it to the build side']),
    )
    .action(action(async (output, options: StatusOptions) => {
      const { statusCommand } = await import('./commands/status.js');
      return statusCommand(output, options);
    }));

  program
    .command('history')
    .description("list the site's audit log: every install, refusal and rollback, oldest first")
    .requiredOption('-s, --site <site.yaml>', 'site file')
    .addOption(json())
    .addHelpText('after', examples(['airlock history --site /etc/airlock/site.yaml', 'airlock history -s site.yaml --json']))
    .action(action(async (output, options: SiteOptions) => {
      const { historyCommand } = await import('./commands/history.js');
      return historyCommand(output, options);
    }));

  program
    .command('rollback')
    .description('return the configs (and image tags) to the previous release, or undo an interrupted install; migrations roll forward only')
    .requiredOption('-s, --site <site.yaml>', 'site file')
    .option('-y, --yes', 'roll back without asking')
    .option('--undo-migrations', "also run the U<version>__ undo scripts of the migrations the release applied (newest first)")
    .addOption(json())
    .addHelpText(
      'after',
      examples(['airlock rollback --site /etc/airlock/site.yaml', 'airlock rollback -s site.yaml --yes --undo-migrations']),
    )
    .action(action(async (output, options: RollbackOptions) => {
      const { rollbackCommand } = await import('./commands/rollback.js');
      return rollbackCommand(output, options);
    }));

  program
    .command('serve')
    .description('serve the images of a verified bundle, release media or a site\'s image store as a read-only OCI registry')
    .argument('[bundle]', 'bundle file (.airlock), or release media (a media directory or one of its volumes)')
    .option('-t, --trust <dir>', 'trust store to verify the bundle against before serving it (see keys/README.md)')
    .option('-s, --site <site.yaml>', "serve the site's OCI layout image target instead of a bundle")
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:5000')
    .option('--tls-cert <cert.pem>', 'serve HTTPS with this certificate (chain), which must name the server (docs/SERVE.md)')
    .option('--tls-key <key.pem>', 'private key of --tls-cert (an encrypted PKCS#8 key is opened with the passphrase)')
    .option('--passphrase-file <file>', 'passphrase of an encrypted --tls-key (else AIRLOCK_PASSPHRASE, else a prompt)')
    .option('--print-config <runtime>', 'print the mirror configuration for containerd, crio (CRI-O, podman) or docker, and exit')
    .option('--json', 'log one JSON object per line (with --print-config: print one JSON document)')
    .addHelpText(
      'after',
      examples([
        'airlock serve shop-1.4.0.airlock --trust /etc/airlock/trust',
        'airlock serve /media/usb1 --trust /etc/airlock/trust --listen 0.0.0.0:5000   # straight from the release media',
        'airlock serve --site /etc/airlock/site.yaml --listen 10.0.0.5:5000 --tls-cert reg.crt.pem --tls-key reg.key.pem',
        'airlock serve shop-1.4.0.airlock -t trust/ --listen 10.0.0.5:5000 --print-config containerd',
        'skopeo inspect --tls-verify=false docker://127.0.0.1:5000/shop/app:1.4.0   # from another terminal',
      ]),
    )
    .action(action(async (output, bundle: string | undefined, options: ServeOptions) => {
      const { serveCommand } = await import('./commands/serve.js');
      return serveCommand(output, bundle, options);
    }));

  const media = program
    .command('media')
    .description('release media: split a bundle into volumes with the installer on them, and check them on arrival')
    .addHelpText('after', examples(['airlock media write shop-1.4.0.airlock --to /media/usb1 --key build.key.pem', 'airlock media verify /media/usb1 /media/usb2 --trust /etc/airlock/trust']));

  media
    .command('write')
    .description('split a bundle into numbered volumes on one or more media, with index, checksums, INSTALL.txt and the installer')
    .argument('<bundle>', 'bundle file (.airlock)')
    .requiredOption('--to <dir...>', 'one directory per medium (USB stick, disc staging dir), filled in order')
    .option('--volume-size <size>', 'largest volume: bytes, <n>K/M/G, or a disc: cd, dvd, dvd-dl, bd25, bd50 (default 4G-1, the FAT32 limit)')
    .option('--media-size <size>', "capacity of each medium (default: the disc's, else the free space of each directory's filesystem)")
    .option('-k, --key <private.pem...>', "sign each medium's SHA256SUMS.media with each key (lets the installer be checked with openssl before first use; as many keys as the trust policy needs)")
    .option('--cert <cert.pem...>', 'certificate (chain) for each --key, in the same order, shipped instead of the bare public key')
    .option('--passphrase-file <file>', 'read the key passphrase from this file (else AIRLOCK_PASSPHRASE, else a prompt)')
    .option('--unsigned', 'write media without --key (volumes stay authenticated by the signed bundle; the installer does not)')
    .option('--installer <file>', 'the single-file CLI to put on the media (default: this one)')
    .addOption(json())
    .addHelpText(
      'after',
      examples([
        'airlock media write shop-1.4.0.airlock --to /media/usb1 --key build.key.pem',
        'airlock media write shop-1.4.0.airlock --to /media/usb1 --key build.key.pem officer.key.pem   # a 2-of-N policy',
        'airlock media write shop-1.4.0.airlock --to disc1 --to disc2 --to disc3 --volume-size dvd -k build.key.pem',
        'airlock media write shop-1.4.0.airlock --to /media/a /media/b --volume-size 2G --media-size 7G -k build.key.pem',
      ]),
    )
    .action(action(async (output, bundle: string, options: MediaWriteOptions) => {
      const { mediaWriteCommand } = await import('./commands/media.js');
      return mediaWriteCommand(output, bundle, options);
    }));

  media
    .command('verify')
    .description('check every volume (missing, swapped, corrupt, named exactly), then verify the bundle inside straight from the volumes')
    .argument('<dir...>', 'the media directories (all of them)')
    .requiredOption('-t, --trust <dir>', 'trust store directory (see keys/README.md)')
    .option('--at <time>', 'judge expiry at this ISO time instead of now')
    .addOption(json())
    .addHelpText('after', examples(['airlock media verify /media/usb1 --trust /etc/airlock/trust', 'node /media/usb1/airlock-installer.mjs media verify /media/usb1 /media/usb2 -t /etc/airlock/trust']))
    .action(action(async (output, dirs: string[], options: MediaVerifyOptions) => {
      const { mediaVerifyCommand } = await import('./commands/media.js');
      return mediaVerifyCommand(output, dirs, options);
    }));

  const keys = program
    .command('keys')
    .description('make key pairs, show a trust store, print key ids')
    .addHelpText('after', examples(['airlock keys generate --name build-ci --out ~/keys', 'airlock keys list --trust keys/', 'airlock keys id keys/build-ci.pub.pem']));

  keys
    .command('generate')
    .description('make a key pair: <name>.key.pem (encrypted PKCS#8, mode 0600) and <name>.pub.pem (SPKI)')
    .requiredOption('-n, --name <name>', 'key name (letters, digits, . _ -); also the file names')
    .requiredOption('-o, --out <dir>', 'directory for the two files (created if missing)')
    .option('--type <type>', 'ed25519 or rsa (RSA-PSS, SHA-256)', 'ed25519')
    .option('--bits <bits>', 'RSA modulus size, 3072 or more (default 3072)')
    .option('--passphrase-file <file>', 'read the new passphrase from this file (else AIRLOCK_PASSPHRASE, else a prompt asked twice)')
    .addOption(json())
    .addHelpText(
      'after',
      examples([
        'airlock keys generate --name build-ci --out ~/keys',
        'airlock keys generate --name officer --out /media/token --type rsa --bits 4096',
        'AIRLOCK_PASSPHRASE=... airlock keys generate -n ci -o keys/ --json',
      ]),
    )
    .action(action(async (output, options: KeysGenerateOptions) => {
      const { keysGenerateCommand } = await import('./commands/keys.js');
      return keysGenerateCommand(output, options);
    }));

  keys
    .command('list')
    .description('show a trust store: trusted keys (id, name, roles, type, file), revoked ids and the policy')
    .requiredOption('-t, --trust <dir>', 'trust store directory (see keys/README.md)')
    .addOption(json())
    .addHelpText('after', examples(['airlock keys list --trust keys/', 'airlock keys list -t /etc/airlock/trust --json | jq .policy']))
    .action(action(async (output, options: KeysListOptions) => {
      const { keysListCommand } = await import('./commands/keys.js');
      return keysListCommand(output, options);
    }));

  keys
    .command('id')
    .description('print the key id (hex SHA-256 of the SPKI DER) of a public key, certificate or private key')
    .argument('<pem>', 'PEM file: PUBLIC KEY, CERTIFICATE, or (ENCRYPTED) PRIVATE KEY')
    .option('--passphrase-file <file>', 'passphrase of an encrypted private key (else AIRLOCK_PASSPHRASE, else a prompt)')
    .addOption(json())
    .addHelpText(
      'after',
      examples([
        'airlock keys id keys/build-ci.pub.pem',
        'airlock keys id ~/keys/build-ci.key.pem --passphrase-file ~/.build-pass',
        'openssl pkey -pubin -in keys/build-ci.pub.pem -outform DER | sha256sum   # the same id, with stock tools',
      ]),
    )
    .action(action(async (output, pem: string, options: KeysIdOptions) => {
      const { keysIdCommand } = await import('./commands/keys.js');
      return keysIdCommand(output, pem, options);
    }));

  keys
    .command('ca-cert')
    .description('make the self-signed certificate of a small offline CA from its key')
    .requiredOption('-k, --key <private.pem>', "the CA's private key (airlock keys generate)")
    .requiredOption('-n, --name <name>', 'CA name (certificate CN)')
    .option('--org <organization>', 'organisation (certificate O)')
    .option('--days <days>', 'validity in days (default 3650)')
    .requiredOption('-o, --out <file>', 'certificate to write (PEM)')
    .option('--passphrase-file <file>', 'passphrase of the CA key (else AIRLOCK_PASSPHRASE, else a prompt)')
    .addOption(json())
    .addHelpText('after', examples(['airlock keys generate -n release-ca -o /media/ca-token', 'airlock keys ca-cert -k /media/ca-token/release-ca.key.pem -n "Example Release CA" -o release-ca.crt.pem']))
    .action(action(async (output, options: KeysCaCertOptions) => {
      const { keysCaCertCommand } = await import('./commands/keys-ca.js');
      return keysCaCertCommand(output, options);
    }));

  keys
    .command('cert-request')
    .description('ask a CA for a certificate: your name, the roles you sign for, your key (signed by it)')
    .requiredOption('-k, --key <private.pem>', 'your signing key')
    .requiredOption('-n, --name <name>', 'your name (certificate CN)')
    .option('-r, --role <role...>', 'roles to ask for (certificate OU), e.g. build, security')
    .option('--org <organization>', 'organisation (certificate O)')
    .requiredOption('-o, --out <file>', 'request to write (PEM)')
    .option('--passphrase-file <file>', 'passphrase of the key (else AIRLOCK_PASSPHRASE, else a prompt)')
    .addOption(json())
    .addHelpText('after', examples(['airlock keys cert-request -k alice.key.pem -n "Alice Example" --role security -o alice.csr.pem']))
    .action(action(async (output, options: KeysCertRequestOptions) => {
      const { keysCertRequestCommand } = await import('./commands/keys-ca.js');
      return keysCertRequestCommand(output, options);
    }));

  keys
    .command('issue')
    .description('issue a signer certificate from a request, with the offline CA key')
    .argument('<request>', 'certificate request (airlock keys cert-request, or openssl req)')
    .requiredOption('--ca-key <private.pem>', "the CA's private key")
    .requiredOption('--ca-cert <cert.pem>', "the CA's certificate (airlock keys ca-cert)")
    .option('--days <days>', 'validity in days (default 365; never past the CA certificate)')
    .requiredOption('-o, --out <file>', 'certificate to write (PEM)')
    .option('--passphrase-file <file>', 'passphrase of the CA key (else AIRLOCK_PASSPHRASE, else a prompt)')
    .addOption(json())
    .addHelpText('after', examples(['airlock keys issue alice.csr.pem --ca-key release-ca.key.pem --ca-cert release-ca.crt.pem -o alice.crt.pem']))
    .action(action(async (output, request: string, options: KeysIssueOptions) => {
      const { keysIssueCommand } = await import('./commands/keys-ca.js');
      return keysIssueCommand(output, request, options);
    }));

  keys
    .command('sign-update')
    .description('sign a trust-store update (a directory holding the whole new store) as one of its root keys')
    .argument('<update-dir>', 'the new trust store: trust.yaml (version N+1, with root:), key and certificate files')
    .requiredOption('-k, --key <private.pem>', 'a current or new root key')
    .option('--passphrase-file <file>', 'passphrase of the key (else AIRLOCK_PASSPHRASE, else a prompt)')
    .addOption(json())
    .addHelpText('after', examples(['airlock keys sign-update media/trust-v4 --key root-alice.key.pem', 'airlock keys sign-update media/trust-v4 --key root-bob.key.pem   # each root holder in turn']))
    .action(action(async (output, updateDir: string, options: KeysSignUpdateOptions) => {
      const { keysSignUpdateCommand } = await import('./commands/keys-update.js');
      return keysSignUpdateCommand(output, updateDir, options);
    }));

  keys
    .command('update')
    .description('replace a trust store with a signed update: newer version, signed by enough current and new root keys')
    .argument('<update-dir>', 'signed update (airlock keys sign-update)')
    .requiredOption('-t, --trust <dir>', 'the trust store to update (the old one is kept as <dir>.previous)')
    .addOption(json())
    .addHelpText('after', examples(['airlock keys update /media/usb/trust-v4 --trust /etc/airlock/trust']))
    .action(action(async (output, updateDir: string, options: KeysUpdateOptions) => {
      const { keysUpdateCommand } = await import('./commands/keys-update.js');
      return keysUpdateCommand(output, updateDir, options);
    }));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    return report(error, program.opts<GlobalOptions>().verbose === true);
  }
}

function report(caught: unknown, verbose: boolean): number {
  if (caught instanceof CommanderError) {
    // commander has already printed help, version or the usage error.
    return caught.exitCode === 0 ? 0 : exitCodeFor('USAGE');
  }
  // A filesystem fault (full disk, no permission, ...) that no step named itself still names its file.
  const error = pathFault(caught) ?? caught;
  if (isAirlockError(error)) {
    process.stderr.write(`airlock: ${error.code}: ${error.message}\n`);
    if (verbose && error.detail) process.stderr.write(`${error.detail}\n`);
    return exitCodeFor(error.code);
  }
  const internal = new AirlockError('INTERNAL', error instanceof Error ? error.message : String(error));
  process.stderr.write(`airlock: ${internal.code}: ${internal.message}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return exitCodeFor('INTERNAL');
}
