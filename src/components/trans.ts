/**
 * The translation bundle of the sidebar's components.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';

/**
 * Gives the components the `trackbook` translation bundle.
 */
export const TranslationContext = React.createContext<TranslationBundle>(
  nullTranslator.load('trackbook')
);

/**
 * The `trackbook` translation bundle.
 */
export function useTrans(): TranslationBundle {
  return React.useContext(TranslationContext);
}
