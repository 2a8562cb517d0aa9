/**
 * The SDL editor: CodeMirror 6 with YAML highlighting, and the SDL engine itself (src/sdl, bundled) checking
 * the text as it is typed, so the marks, codes and messages are the CLI's `sdl validate` ones, with no server
 * round trip. Tab is left to move focus (the editor never traps the keyboard); indent with spaces.
 */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, linter, lintGutter } from '@codemirror/lint';
import { EditorState, type Text } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { formatDiagnostic, parseSdl, type SdlDiagnostic } from '../../sdl/index.js';

/** The file name diagnostics carry, as `akash-ip sdl validate sdl.yaml` prints them. */
export const EDITOR_FILE = 'sdl.yaml';

/** Colours chosen for ≥ 4.5:1 contrast on the editor's white background. */
const highlight = HighlightStyle.define([
  { tag: tags.propertyName, color: '#0b4f8a' },
  { tag: [tags.string, tags.special(tags.string)], color: '#1d6b2f' },
  { tag: [tags.number, tags.bool, tags.null], color: '#8a3b00' },
  { tag: tags.comment, color: '#5c6370', fontStyle: 'italic' },
  { tag: [tags.keyword, tags.definitionKeyword, tags.typeName], color: '#7a1fa2' },
  { tag: [tags.punctuation, tags.separator], color: '#3d4450' },
]);

export interface SdlCheck {
  readonly ok: boolean;
  readonly diagnostics: readonly SdlDiagnostic[];
}

/** Checks SDL text as the CLI checks a file. */
export function checkSdl(text: string): SdlCheck {
  const result = parseSdl(new TextEncoder().encode(text), { file: EDITOR_FILE });
  return result.ok
    ? { ok: true, diagnostics: result.warnings }
    : { ok: false, diagnostics: [...result.error, ...result.warnings] };
}

/** The character range a diagnostic marks: from its line and column to the end of the word there. */
function rangeOf(doc: Text, d: SdlDiagnostic): { from: number; to: number } {
  const line = doc.line(Math.min(Math.max(d.line, 1), doc.lines));
  const from = Math.min(line.from + Math.max(d.col - 1, 0), line.to);
  const rest = doc.sliceString(from, line.to);
  const word = /^[^\s:,#]+/.exec(rest)?.[0].length ?? 0;
  return { from, to: Math.max(from + word, Math.min(from + 1, line.to)) };
}

export interface SdlEditor {
  readonly view: EditorView;
  text(): string;
  setText(text: string): void;
  /** Moves the cursor to a diagnostic's line and column and focuses the editor. */
  reveal(d: SdlDiagnostic): void;
}

export function createEditor(
  parent: HTMLElement,
  initial: string,
  onCheck: (check: SdlCheck) => void,
): SdlEditor {
  const sdlLinter = linter(
    (view): Diagnostic[] => {
      const check = checkSdl(view.state.doc.toString());
      onCheck(check);
      return check.diagnostics.map((d) => ({
        ...rangeOf(view.state.doc, d),
        severity: d.severity,
        source: d.code,
        message: formatDiagnostic(d),
      }));
    },
    { delay: 150 },
  );
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: initial,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        yaml(),
        syntaxHighlighting(highlight),
        lintGutter(),
        sdlLinter,
        EditorView.contentAttributes.of({ 'aria-label': 'SDL (YAML)', 'aria-describedby': 'sdl-help' }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    reveal(d) {
      const { from } = rangeOf(view.state.doc, d);
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
      view.focus();
    },
  };
}
