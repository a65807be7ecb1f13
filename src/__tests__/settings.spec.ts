import schema from '../../schema/plugin.json';
import { DEFAULT_SETTINGS, readSettings } from '../settings';

describe('settings', () => {
  it('has the same defaults as schema/plugin.json', () => {
    const defaults = Object.fromEntries(
      Object.entries(schema.properties).map(([key, property]) => [
        key,
        property.default
      ])
    );

    expect(defaults).toEqual(DEFAULT_SETTINGS);
  });

  it('documents every property in the schema', () => {
    for (const property of Object.values(schema.properties)) {
      expect(property.title).toBeTruthy();
      expect(property.description).toBeTruthy();
    }
    expect(schema.additionalProperties).toBe(false);
  });

  it('reads valid values', () => {
    expect(
      readSettings({
        refreshInterval: 5,
        pageSize: 200,
        metricColumns: ['accuracy', 'loss']
      })
    ).toEqual({
      refreshInterval: 5,
      pageSize: 200,
      metricColumns: ['accuracy', 'loss']
    });
  });

  it('falls back to the defaults for invalid values', () => {
    expect(
      readSettings({
        refreshInterval: 0,
        pageSize: 2.5,
        metricColumns: 'accuracy'
      })
    ).toEqual(DEFAULT_SETTINGS);
  });

  it('keeps the page size within what the server serves', () => {
    expect(readSettings({ pageSize: 500 }).pageSize).toBe(500);
    expect(readSettings({ pageSize: 501 }).pageSize).toBe(
      DEFAULT_SETTINGS.pageSize
    );
    expect(schema.properties.pageSize.maximum).toBe(500);
  });
});
