// Command descriptions as paragraphs: oclif wraps help once, not on top of the source's own line breaks.
import { describe, expect, it } from 'vitest';
import { paragraphs } from '../../src/cli/prose.js';

describe('paragraphs', () => {
  it('joins the lines of a paragraph, keeps blank lines between paragraphs', () => {
    expect(paragraphs('Reads the rules\nand compares them.\n\n--probe also\nconnects.')).toBe('Reads the rules and compares them.\n\n--probe also connects.');
  });

  it('keeps list items and indented lines on lines of their own', () => {
    expect(paragraphs('Checks:\n- connect\n- dns\n  with a server')).toBe('Checks:\n- connect\n- dns\n  with a server');
  });
});
