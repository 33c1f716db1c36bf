"""transfers"""
