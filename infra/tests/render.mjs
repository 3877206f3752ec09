// Renders the state machine definition the way CloudFormation's DefinitionSubstitutions do, for
// the engine and the validator. Usage as a script: node render.mjs OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FUNCTIONS = {
  ExportFunctionArn: 'export',
  UploadChunkFunctionArn: 'upload-chunk',
  FinalizeFunctionArn: 'finalize',
};

export function render(maxConcurrency = 4) {
  const path = fileURLToPath(new URL('../statemachine/export.asl.json', import.meta.url));
  let text = readFileSync(path, 'utf8');
  for (const [name, fn] of Object.entries(FUNCTIONS)) {
    text = text.replaceAll('${' + name + '}', `arn:aws:lambda:us-east-1:123456789012:function:${fn}`);
  }
  text = text.replaceAll('${MaxConcurrency}', String(maxConcurrency));
  const left = text.match(/\$\{[A-Za-z]+\}/);
  if (left) throw new Error(`unsubstituted placeholder ${left[0]}`);
  return JSON.parse(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(process.argv[2], JSON.stringify(render(), null, 2));
}
