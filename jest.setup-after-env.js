// DOM matchers (toBeInTheDocument, toHaveTextContent, ...) for React
// Testing Library.
require('@testing-library/jest-dom');
