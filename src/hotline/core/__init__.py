"""The shared vocabulary: words, errors, ids, phone numbers and the domain events that every
other part of the package uses. Imports nothing else from hotline."""
