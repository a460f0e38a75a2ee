import { bindingChoicesFor, decoyOf } from '../../src/domain/binding-choices.js';
import { checkBindingChoice, withBindingChoices } from '../../src/use-cases/binding-confirmation.js';
import type { ConsentView } from '../../src/domain/authentication-request.js';

const shape = (text: string): string => text.replace(/[0-9]/g, '9').replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A');

describe('binding-message decoys', () => {
  it.each(['Pay 50 EUR', '4821', 'Order 4711 at 12:30', 'XK-42-PLM', 'Blue Fox', 'confirm', 'ABCD', 'a'])('keep the shape of %p', (message) => {
    for (let i = 0; i < 50; i += 1) {
      const decoy = decoyOf(message);
      expect(decoy).toHaveLength(message.length);
      expect(shape(decoy)).toBe(shape(message));
    }
  });

  it('change only the digits when there are digits, and the words otherwise', () => {
    expect(decoyOf('Pay 50 EUR').replace(/[0-9]/g, '')).toBe('Pay  EUR');
    const words = decoyOf('Blue Fox', (max) => max - 1);
    expect(words).toMatch(/^[A-Z][a-z]{3} [A-Z][a-z]{2}$/);
    expect(words).not.toBe('Blue Fox');
  });

  it('offer the message and two distinct decoys', () => {
    for (let i = 0; i < 50; i += 1) {
      const choices = bindingChoicesFor('Pay 5 EUR');
      expect(choices).toHaveLength(3);
      expect(new Set(choices).size).toBe(3);
      expect(choices).toContain('Pay 5 EUR');
    }
  });

  it('put the real message in every position over many draws', () => {
    const positions = new Set<number>();
    for (let i = 0; i < 200; i += 1) positions.add(bindingChoicesFor('Pay 50 EUR')!.indexOf('Pay 50 EUR'));
    expect([...positions].sort()).toEqual([0, 1, 2]);
  });

  it('give up on a message with nothing to vary', () => {
    expect(bindingChoicesFor('!!! ---')).toBeUndefined();
  });
});

describe('binding confirmation rules', () => {
  const view: ConsentView = {
    request_id: 'r',
    client: { name: 'Shop' },
    binding_message: 'Pay 50 EUR',
    scopes: [],
    created_at: '2026-01-01T00:00:00.000Z',
    expires_at: '2026-01-01T00:02:00.000Z',
  };
  const withChoices = withBindingChoices(view, 'required');

  it('adds choices only when on and there is a binding message', () => {
    expect(withBindingChoices(view, 'off')).toBe(view);
    expect(withChoices.binding_choices).toHaveLength(3);
    const { binding_message: _none, ...noMessage } = view;
    expect(withBindingChoices(noMessage, 'required').binding_choices).toBeUndefined();
  });

  it('checks approvals only', () => {
    const decoy = withChoices.binding_choices!.find((choice) => choice !== 'Pay 50 EUR')!;
    expect(checkBindingChoice(withChoices, 'approve', 'Pay 50 EUR', 'required')).toEqual({ outcome: 'confirmed', choice: 'Pay 50 EUR' });
    expect(checkBindingChoice(withChoices, 'approve', decoy, 'optional')).toEqual({ outcome: 'mismatch', choice: decoy });
    expect(checkBindingChoice(withChoices, 'approve', 'something else', 'optional')).toEqual({ outcome: 'mismatch', choice: 'something else' });
    expect(checkBindingChoice(withChoices, 'approve', undefined, 'required')).toEqual({ outcome: 'missing' });
    expect(checkBindingChoice(withChoices, 'approve', undefined, 'optional')).toEqual({ outcome: 'not_asked' });
    expect(checkBindingChoice(withChoices, 'deny', decoy, 'required')).toEqual({ outcome: 'not_asked' });
    expect(checkBindingChoice(view, 'approve', decoy, 'required')).toEqual({ outcome: 'not_asked' });
  });
});
