// Sign-in: paste an API token (or open the `#token=` link `enrichd start` prints).
import { type FormEvent, useState } from 'react';
import { looksLikeJwt } from '../auth/token';

export interface SignInProps {
  /** why the tab is signed out (a refused token), if it was signed in before */
  notice: string | null;
  onSignIn(token: string): void;
}

/** The sign-in form. */
export function SignIn({ notice, onSignIn }: SignInProps) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const token = value.trim().replace(/^Bearer\s+/i, '');
    if (!looksLikeJwt(token)) {
      setProblem('That is not a token: a token has three parts separated by dots (header.payload.signature).');
      return;
    }
    onSignIn(token);
  };
  return (
    <main id="main" className="signin" tabIndex={-1}>
      <h1>Sign in to enrichd</h1>
      {notice ? (
        <p className="state state-error" role="alert">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">API token</label>
        <textarea
          id="token"
          name="token"
          rows={4}
          autoComplete="off"
          spellCheck={false}
          value={value}
          aria-describedby="token-help"
          aria-invalid={problem !== null}
          onChange={(e) => {
            setValue(e.target.value);
            setProblem(null);
          }}
        />
        <p id="token-help" className="help">
          Paste a token from <code>enrichd token --tenant &lt;uuid&gt;</code>, or open the sign-in link that <code>enrichd start</code> prints. The
          token stays in this tab only and is sent in the Authorization header, never in a URL.
        </p>
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
