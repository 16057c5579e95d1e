"""flowscope plugin __name__: __description__"""
