import type { ConsentView, DecisionAction, DecisionRecord } from '../domain/authentication-request.js';
import { bindingChoicesFor } from '../domain/binding-choices.js';
import type { BindingConfirmationMode } from '../config/config.js';

/** Reason code (and reject error_cause) of a request denied because the user picked a decoy. */
export const BINDING_MISMATCH = 'binding_mismatch';
export const BINDING_MISMATCH_DESCRIPTION =
  'the user picked a binding message that is not the one the consumption device shows; the request was denied';

/**
 * Adds the binding message among decoys to a view being prepared, when binding confirmation is on and
 * the request has a binding message. The choices are part of the view, hence of its consent hash.
 */
export function withBindingChoices(view: ConsentView, mode: BindingConfirmationMode): ConsentView {
  if (mode === 'off' || view.binding_message === undefined) return view;
  const choices = bindingChoicesFor(view.binding_message);
  return choices === undefined ? view : { ...view, binding_choices: choices };
}

export type BindingCheck =
  | { outcome: 'confirmed' | 'not_asked'; choice?: string }
  /** `required` mode and an approve without a pick. */
  | { outcome: 'missing' }
  /** A pick that is not the binding message: the request is denied. */
  | { outcome: 'mismatch'; choice: string };

/**
 * Checks the binding message a user picked. Only approvals of views that offer choices are checked;
 * a deny needs no pick. Without a pick an approval passes unless the mode is `required`.
 */
export function checkBindingChoice(
  view: ConsentView,
  action: DecisionAction,
  choice: string | undefined,
  mode: BindingConfirmationMode,
): BindingCheck {
  if (action !== 'approve' || view.binding_choices === undefined) return { outcome: 'not_asked' };
  if (choice === undefined || choice === '') return mode === 'required' ? { outcome: 'missing' } : { outcome: 'not_asked' };
  return choice === view.binding_message ? { outcome: 'confirmed', choice } : { outcome: 'mismatch', choice };
}

/** The decision recorded for a wrong pick: a deny, with the reason the authorization server is told. */
export function bindingMismatchDecision(base: Omit<DecisionRecord, 'action'>, choice: string): DecisionRecord {
  const { grantedScopes: _grantedNothing, ...rest } = base;
  return {
    ...rest,
    action: 'deny',
    reason: BINDING_MISMATCH,
    description: BINDING_MISMATCH_DESCRIPTION,
    error: 'access_denied',
    bindingChoice: choice,
  };
}
