/**
 * The trackbook sidebar: a JupyterLab `SidePanel` hosting the React views.
 */
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import {
  ReactWidget,
  SidePanel,
  ToolbarButton,
  refreshIcon
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { AccordionPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import type { ITrackbookAppProps } from './components/App';
import { trackbookIcon } from './icons';
import { RunsModel } from './model';

/**
 * Id of the sidebar widget (the layout restorer and commands use it).
 */
export const SIDEBAR_ID = 'trackbook-sidebar';

/**
 * Options of the sidebar.
 */
export interface ITrackbookSidebarOptions extends Omit<
  ITrackbookAppProps,
  'model' | 'trans'
> {
  model: RunsModel;
  /**
   * Translations of the `trackbook` domain; English if omitted.
   */
  trans?: TranslationBundle;
}

/**
 * The trackbook sidebar. Its React views load the first time it is shown;
 * it tells its model when it is shown or hidden, so that polling stops while
 * nobody looks.
 */
export class TrackbookSidebar extends SidePanel {
  /**
   * @param options - The model and what the views can do in JupyterLab.
   */
  constructor(options: ITrackbookSidebarOptions) {
    super();
    this._options = options;
    this._model = options.model;
    const trans = options.trans ?? nullTranslator.load('trackbook');
    this.id = SIDEBAR_ID;
    this.addClass('jp-trackbook-Sidebar');
    this.title.icon = trackbookIcon;
    this.title.caption = trans.__('trackbook runs');

    // One view fills the panel: no accordion title (hidden in the
    // stylesheet) and no space kept for it.
    if (this.content instanceof AccordionPanel) {
      this.content.titleSpace = 0;
    }

    const heading = new Widget();
    heading.addClass('jp-trackbook-Sidebar-title');
    heading.node.textContent = trans.__('trackbook');
    this.header.addWidget(heading);
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Load the runs again'),
        onClick: () => void this._model.refresh()
      })
    );
  }

  /**
   * The sidebar's model.
   */
  get model(): RunsModel {
    return this._model;
  }

  /**
   * Load and add the React views, once.
   *
   * @returns A promise that resolves when the views are in the panel.
   */
  loadContent(): Promise<void> {
    if (this._views === null) {
      this._views = import('./components/App').then(({ TrackbookApp }) => {
        const content = ReactWidget.create(
          <TrackbookApp
            {...this._options}
            trans={this._options.trans ?? nullTranslator.load('trackbook')}
          />
        );
        content.addClass('jp-trackbook-Sidebar-content');
        this.addWidget(content);
      });
    }
    return this._views;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.visible = true;
    void this.loadContent();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.visible = false;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.visible = this.isVisible;
    if (this.isVisible) {
      void this.loadContent();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.visible = false;
    super.onBeforeDetach(msg);
  }

  private _options: ITrackbookSidebarOptions;
  private _model: RunsModel;
  private _views: Promise<void> | null = null;
}
