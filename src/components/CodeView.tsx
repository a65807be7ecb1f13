/**
 * Read-only code with JupyterLab's syntax highlighting.
 */
import {
  IEditorLanguageRegistry,
  jupyterHighlightStyle
} from '@jupyterlab/codemirror';
import * as React from 'react';

import { useTrans } from './trans';

/**
 * A piece of highlighted code: text, and the highlighter's class if any.
 */
export interface IToken {
  text: string;
  className: string | null;
}

/**
 * Split code into highlighted tokens with JupyterLab's language registry.
 *
 * The registry writes text nodes and class names into a detached element;
 * they are read back as plain strings, so the code is never parsed as HTML.
 *
 * @param languages - JupyterLab's editor language registry.
 * @param code - The code.
 * @param language - Language name or MIME type, e.g. `python`.
 */
export async function highlightTokens(
  languages: IEditorLanguageRegistry,
  code: string,
  language: string
): Promise<IToken[]> {
  const spec = languages.findBest(language);
  const target = document.createElement('div');
  await languages.highlight(code, spec, target);
  const tokens: IToken[] = [];
  target.childNodes.forEach(node => {
    tokens.push({
      text: node.textContent ?? '',
      className:
        node instanceof HTMLElement && node.className ? node.className : null
    });
  });
  const same = tokens.map(token => token.text).join('') === code;
  return same ? tokens : [{ text: code, className: null }];
}

/**
 * Id of the style element that holds the highlighter's rules.
 */
const HIGHLIGHT_STYLE_ID = 'jp-trackbook-highlight-style';

/**
 * Make sure the rules of JupyterLab's highlight style are in the page.
 *
 * CodeMirror adds them when it mounts an editor; the sidebar may show code
 * before any editor exists. The rules use JupyterLab's CSS variables, so they
 * follow the theme.
 */
export function ensureHighlightStyle(): void {
  if (document.getElementById(HIGHLIGHT_STYLE_ID)) {
    return;
  }
  const rules = jupyterHighlightStyle.module?.getRules();
  if (!rules) {
    return;
  }
  const style = document.createElement('style');
  style.id = HIGHLIGHT_STYLE_ID;
  style.textContent = rules;
  document.head.appendChild(style);
}

/**
 * Properties of the code view.
 */
export interface ICodeViewProps {
  code: string;
  /**
   * Language name or MIME type; `python` if omitted.
   */
  language?: string;
  /**
   * JupyterLab's language registry; without it the code is plain text.
   */
  languages?: IEditorLanguageRegistry | null;
  /**
   * Accessible name of the code block.
   */
  label?: string;
}

/**
 * A block of read-only code, highlighted once the language has loaded.
 */
export function CodeView(props: ICodeViewProps): JSX.Element {
  const { code, languages } = props;
  const language = props.language ?? 'python';
  const [tokens, setTokens] = React.useState<IToken[] | null>(null);
  const trans = useTrans();

  React.useEffect(() => {
    setTokens(null);
    if (!languages || !code) {
      return;
    }
    let current = true;
    ensureHighlightStyle();
    highlightTokens(languages, code, language)
      .then(result => {
        if (current) {
          setTokens(result);
        }
      })
      .catch(reason => {
        console.warn('trackbook: could not highlight code', reason);
      });
    return () => {
      current = false;
    };
  }, [code, language, languages]);

  return (
    <pre
      className="jp-trackbook-Code cm-s-jupyter"
      aria-label={props.label ?? trans.__('Code')}
    >
      <code>
        {tokens === null
          ? code
          : tokens.map((token, index) =>
              token.className === null ? (
                <React.Fragment key={index}>{token.text}</React.Fragment>
              ) : (
                <span key={index} className={token.className}>
                  {token.text}
                </span>
              )
            )}
      </code>
    </pre>
  );
}
