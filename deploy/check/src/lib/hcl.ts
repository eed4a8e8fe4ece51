import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parse } from '@cdktf/hcl2json';

export type HclDocument = Record<string, any>;

/** Parses every file and merges the blocks of one folder (a Terraform module) into one document. */
export async function parseModule(files: string[]): Promise<HclDocument> {
  const merged: HclDocument = {};
  for (const file of files) {
    const document = await parse(basename(file), readFileSync(file, 'utf8'));
    for (const [blockType, blocks] of Object.entries(document)) {
      if (typeof blocks !== 'object' || blocks === null || Array.isArray(blocks)) {
        merged[blockType] = blocks;
        continue;
      }
      merged[blockType] ??= {};
      for (const [key, value] of Object.entries(blocks as Record<string, any>)) {
        if (blockType === 'resource' || blockType === 'data') {
          merged[blockType][key] = { ...(merged[blockType][key] ?? {}), ...value };
        } else {
          merged[blockType][key] = value;
        }
      }
    }
  }
  return merged;
}

export async function parseFile(file: string): Promise<HclDocument> {
  return parse(basename(file), readFileSync(file, 'utf8'));
}

/** The single body of resource `type.name`, throwing when absent. */
export function resourceBody(document: HclDocument, type: string, name: string): any {
  const body = document.resource?.[type]?.[name]?.[0];
  if (!body) throw new Error(`resource ${type}.${name} is missing`);
  return body;
}

/** Default value of a variable as hcl2json reports it. */
export function variableDefault(document: HclDocument, name: string): unknown {
  return document.variable?.[name]?.[0]?.default;
}

export function moduleFolder(file: string): string {
  return dirname(file);
}
